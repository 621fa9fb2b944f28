// A Node.js gRPC-Web client (connect-node) for strait's e2e tests
// (e2e/node_test.go): it calls strait.test.v1.Echo through the gateway over
// HTTP/1.1 and HTTP/2, with messages built at run time from the committed
// FileDescriptorSet (no code generation), checks every answer and prints
// {"results":[{"name","ok","error"}]}. Exit code 0 only if all passed.
//
//   node client.mjs http://127.0.0.1:PORT ../testdata/echo.pb
import { readFileSync } from "node:fs";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";

const [baseUrl, pbPath] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(pbPath)));
const Echo = registry.getService("strait.test.v1.Echo");
const EchoRequest = registry.getMessage("strait.test.v1.EchoRequest");
const ErrorDetail = registry.getMessage("strait.test.v1.ErrorDetail");

const M = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

// payload is internal/echo.Payload: splitmix64 bytes from seed and index.
function payload(seed, index, size) {
  let x = (seed ^ ((BigInt.asUintN(64, BigInt(index)) * GOLDEN) & M)) & M;
  const out = new Uint8Array(size + 8);
  for (let i = 0; i < size; i += 8) {
    x = (x + GOLDEN) & M;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    z = z ^ (z >> 31n);
    for (let b = 0; b < 8; b++) out[i + b] = Number((z >> BigInt(8 * b)) & 0xffn);
  }
  return out.slice(0, size);
}

// details is internal/echo.Details.
const details = (seed) => payload(seed ^ M, -1, 16);

const eq = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
const hex = (a) => Buffer.from(a).toString("hex");

function check(cond, what) {
  if (!cond) throw new Error(what);
}

function request(i, fail) {
  const r = create(EchoRequest, {
    payload: payload(BigInt(i), 0, 1000 + i),
    text: `node ✓ ${i}`,
    id: `node-${i}`,
    seed: BigInt(i + 7),
  });
  if (fail && i === 0) {
    r.failCode = 9;
    r.failMessage = "node failure ✗ 100%";
    r.failDetails = true;
  }
  return r;
}

const binValue = Uint8Array.from([0, 255, 127, 1, 2, 3]);

function callHeaders(name) {
  return {
    "x-custom-header": `header ${name}`,
    "x-custom-trailer": `trailer ${name}`,
    "x-custom-bin": Buffer.from(binValue).toString("base64"),
  };
}

// checkMeta: headers echo the request's, trailers echo them under "t-".
function checkMeta(name, hdr, trl) {
  check(hdr?.get("x-custom-header") === `header ${name}`, `header x-custom-header: ${hdr?.get("x-custom-header")}`);
  check(trl?.get("t-x-custom-trailer") === `trailer ${name}`, `trailer t-x-custom-trailer: ${trl?.get("t-x-custom-trailer")}`);
  check(trl?.get("t-x-custom-header") === `header ${name}`, `trailer t-x-custom-header: ${trl?.get("t-x-custom-header")}`);
  const bin = hdr?.get("x-custom-bin");
  check(bin != null && eq(Buffer.from(bin, "base64"), binValue), `header x-custom-bin: ${bin}`);
}

function checkError(name, err, seed) {
  check(err instanceof ConnectError, `not a ConnectError: ${err}`);
  check(err.code === Code.FailedPrecondition, `code ${Code[err.code]} (${err.rawMessage}); want FailedPrecondition`);
  check(err.rawMessage === "node failure ✗ 100%", `message ${JSON.stringify(err.rawMessage)}`);
  const ds = err.findDetails(ErrorDetail);
  check(ds.length === 1 && eq(ds[0].data, details(seed)), `details ${ds.map((d) => hex(d.data))}; want ${hex(details(seed))}`);
  checkMeta(name, err.metadata, err.metadata);
}

function checkEcho(m, r, index) {
  check(eq(m.payload, r.payload), `payload ${m.payload.length} bytes; want ${r.payload.length}`);
  check(m.text === r.text && m.id === r.id && m.index === index, `message ${m.text}/${m.id}/${m.index}`);
}

const kinds = {
  async unary(client, name, fail, opts) {
    const r = request(0, fail);
    const res = await client.unary(r, opts);
    checkEcho(res, r, 0);
  },
  async server(client, name, fail, opts) {
    const r = request(0, fail);
    r.count = 3;
    r.size = 100;
    const got = [];
    try {
      for await (const m of client.serverStream(r, opts)) got.push(m);
    } finally {
      check(got.length === 4, `${got.length} messages; want 4`);
      checkEcho(got[0], r, 0);
      for (let i = 1; i < 4; i++) check(eq(got[i].payload, payload(r.seed, i, 100)), `message ${i} payload`);
    }
  },
  async client(client, name, fail, opts) {
    const reqs = [0, 1, 2].map((i) => request(i, fail));
    async function* send() {
      yield* reqs;
    }
    const res = await client.clientStream(send(), opts);
    check(res.received === 3, `received ${res.received}`);
    check(eq(res.payload, Buffer.concat(reqs.map((r) => r.payload))), "payloads");
    check(res.text === reqs.map((r) => r.text).join(","), `text ${res.text}`);
  },
  async bidi(client, name, fail, opts) {
    // Ping-pong: each request waits for the previous echo.
    const reqs = [0, 1, 2].map((i) => request(i, fail));
    let answered = () => {};
    async function* send() {
      for (const r of reqs) {
        const next = new Promise((resolve) => (answered = resolve));
        yield r;
        await next;
      }
    }
    let n = 0;
    for await (const m of client.bidi(send(), opts)) {
      checkEcho(m, reqs[n], n);
      n++;
      answered();
    }
    check(n === 3, `${n} echoes; want 3`);
  },
};

async function run(httpVersion, kind, fail) {
  const name = `${httpVersion}/${kind}/${fail ? "error" : "ok"}`;
  const transport = createGrpcWebTransport({ baseUrl, httpVersion, useBinaryFormat: true });
  const client = createClient(Echo, transport);
  let hdr, trl;
  const opts = {
    headers: callHeaders(name),
    timeoutMs: 10000,
    onHeader: (h) => (hdr = h),
    onTrailer: (t) => (trl = t),
  };
  try {
    try {
      await kinds[kind](client, name, fail, opts);
      check(!fail, "the call succeeded; want FailedPrecondition");
      checkMeta(name, hdr, trl);
    } catch (err) {
      if (!fail || !(err instanceof ConnectError)) throw err;
      checkError(name, err, 7n);
    }
    return { name, ok: true };
  } catch (err) {
    return { name, ok: false, error: String(err?.message ?? err) };
  }
}

// Over HTTP/1.1 connect-node streams no request body: unary and server
// streaming only. HTTP/2 carries all four kinds.
const plan = [];
for (const v of ["1.1", "2"]) {
  const ks = v === "2" ? ["unary", "server", "client", "bidi"] : ["unary", "server"];
  for (const k of ks) for (const fail of [false, true]) plan.push([v, k, fail]);
}
const results = await Promise.all(plan.map(([v, k, f]) => run(v, k, f)));
console.log(JSON.stringify({ results }));
process.exit(results.every((r) => r.ok) ? 0 : 1);
