// The page of strait's browser test (e2e/browser_test.go), bundled with
// esbuild at test time and served by the Go test from an origin other than
// the gateway's. It calls strait.test.v1.Echo through the gateway with the
// browser's own fetch (REST/JSON) and with connect-web's gRPC-Web
// transport (messages built at run time from the committed descriptor set
// e2e/testdata/echo.pb, bundled in), checks every answer, and leaves
//
//   window.straitResults = [{name, ok, error, info}]
//
// (each fetch and call gives up after 10s; window.straitPartial and
// straitCurrent tell a driver that timed out how far the page got).
// for the driver (drive.mjs). The query string says what to do:
//   gateway=URL   strait's listen address (http://127.0.0.1:PORT)
//   mode=allowed  the page's origin is in cors.allow_origins: every call works
//   mode=denied   it is not: the browser must refuse every call
//   run=ID        a tag the Go test puts in x-req-id, to find the calls upstream
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import echoPb from "../testdata/echo.pb"; // esbuild --loader:.pb=binary

const params = new URLSearchParams(location.search);
const gateway = params.get("gateway");
const mode = params.get("mode");
const run = params.get("run");

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, echoPb));
const Echo = registry.getService("strait.test.v1.Echo");
const EchoRequest = registry.getMessage("strait.test.v1.EchoRequest");
const ErrorDetail = registry.getMessage("strait.test.v1.ErrorDetail");

// The header the REST call sends and the upstream echoes back (exposed by
// cors.expose_headers), and one it echoes back that is not exposed.
const TENANT = "tenant-browser-42";

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

const eq = (a, b) => a != null && a.length === b.length && a.every((v, i) => v === b[i]);
const hex = (a) => Array.from(a ?? [], (b) => b.toString(16).padStart(2, "0")).join("");
const b64 = (a) => btoa(String.fromCharCode(...a));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// ---- REST with the browser's fetch ----

// restPost is a POST with a JSON body and custom headers: not a "simple"
// request, so the browser sends a preflight first.
function restPost(path, body, id) {
  return fetch(gateway + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Tenant": TENANT, "X-Req-Id": id },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
}

const allowed = {
  // The unary REST call: body, the echoed custom header (exposed), the
  // gateway's x-request-id (exposed by default), and an echoed header the
  // configuration does not expose, which the browser must hide.
  async "rest/unary"(info) {
    const id = `${run}-rest-unary`;
    info.reqId = id;
    const p = payload(11n, 0, 300);
    const res = await restPost("/v1/echo", { payload: b64(p), text: "browser ✓ ü", id: "rest-1" }, id);
    const text = await res.text();
    check(res.status === 200, `HTTP ${res.status}: ${text}`);
    check(res.headers.get("content-type")?.startsWith("application/json"), `content-type ${res.headers.get("content-type")}`);
    const body = JSON.parse(text);
    check(eq(unb64(body.payload ?? ""), p), `payload ${body.payload}`);
    check(body.text === "browser ✓ ü" && body.id === "rest-1", `body ${JSON.stringify(body)}`);
    check(res.headers.get("x-tenant") === TENANT, `x-tenant header: ${res.headers.get("x-tenant")}`);
    const rid = res.headers.get("x-request-id");
    check(rid != null && rid.length >= 8, `x-request-id: ${rid}`);
    info.requestId = rid;
    check(res.headers.get("x-req-id") === null, `x-req-id is not in expose_headers, yet the page read ${res.headers.get("x-req-id")}`);
  },

  // A gRPC error as REST: the mapped HTTP status, the JSON status body
  // with its details, and grpc-status exposed.
  async "rest/error"(info) {
    const id = `${run}-rest-error`;
    const res = await restPost("/v1/echo", { text: "x", failCode: 5, failMessage: "no such thing ✗", failDetails: true, seed: "7" }, id);
    check(res.status === 404, `HTTP ${res.status}; want 404`);
    const body = await res.json();
    check(body.code === 5 && body.message === "no such thing ✗", `body ${JSON.stringify(body)}`);
    check(body.details?.length === 1 && eq(unb64(body.details[0].data ?? ""), details(7n)), `details ${JSON.stringify(body.details)}`);
    check(res.headers.get("grpc-status") === "5", `grpc-status header: ${res.headers.get("grpc-status")}`);
    check(res.headers.get("x-tenant") === TENANT, `x-tenant header: ${res.headers.get("x-tenant")}`);
  },

  // A REST server stream read as it arrives: one JSON object per line.
  async "rest/stream"(info) {
    const id = `${run}-rest-stream`;
    const res = await restPost("/v1/echo:stream", { text: "s", id: "rest-s", count: 3, size: 64, seed: "5" }, id);
    check(res.status === 200, `HTTP ${res.status}`);
    const lines = (await res.text()).split("\n").filter((l) => l.trim() !== "");
    check(lines.length === 4, `${lines.length} lines; want 4: ${lines.join(" | ").slice(0, 300)}`);
    const ms = lines.map((l) => JSON.parse(l));
    check(ms[0].text === "s" && ms[0].id === "rest-s", `first ${lines[0]}`);
    for (let i = 1; i < 4; i++) {
      check(ms[i].index === i && eq(unb64(ms[i].payload ?? ""), payload(5n, i, 64)), `line ${i}: ${lines[i].slice(0, 120)}`);
    }
    check(res.headers.get("x-tenant") === TENANT, `x-tenant header: ${res.headers.get("x-tenant")}`);
  },

  // ---- gRPC-Web with connect-web ----

  async "grpcweb/unary"(info) {
    const r = request("unary", 1000);
    const { hdr, trl, opts } = callOpts("unary");
    const res = await client(true).unary(r, opts);
    checkEcho(res, r, 0);
    checkMeta("unary", hdr(), trl());
    // The gateway's request id: exposed by default, one value, the one
    // the upstream got (it echoes it back in the trailer t-x-request-id).
    const rid = hdr().get("x-request-id");
    const upstream = trl().get("t-x-request-id");
    info.requestId = rid;
    check(upstream != null && upstream.length >= 8, `the upstream got x-request-id ${upstream}`);
    check(rid === upstream, `response x-request-id ${JSON.stringify(rid)} (duplicates joined with ", " by the browser); want the one id the upstream got, ${JSON.stringify(upstream)}`);
  },

  async "grpcweb/unary-json"(info) {
    // application/grpc-web+json: the codec suffix travels to the upstream.
    const r = request("unary-json", 50);
    const { hdr, trl, opts } = callOpts("unary-json");
    const res = await client(false).unary(r, opts);
    checkEcho(res, r, 0);
    checkMeta("unary-json", hdr(), trl());
  },

  async "grpcweb/server-stream"(info) {
    const r = request("server-stream", 200);
    r.count = 5;
    r.size = 2000;
    const { hdr, trl, opts } = callOpts("server-stream");
    const got = [];
    for await (const m of client(true).serverStream(r, opts)) got.push(m);
    check(got.length === 6, `${got.length} messages; want 6`);
    checkEcho(got[0], r, 0);
    for (let i = 1; i < 6; i++) {
      check(got[i].index === i && eq(got[i].payload, payload(r.seed, i, 2000)), `message ${i}: index ${got[i].index}, payload ${hex(got[i].payload.slice(0, 8))}...`);
    }
    checkMeta("server-stream", hdr(), trl());
  },

  async "grpcweb/unary-error"(info) {
    const r = request("unary-error", 10);
    r.failCode = Code.FailedPrecondition;
    r.failMessage = "browser failure ✗ 100%";
    r.failDetails = true;
    const { opts } = callOpts("unary-error");
    const err = await client(true).unary(r, opts).then(
      () => null,
      (e) => e,
    );
    check(err != null, "the call succeeded; want FailedPrecondition");
    checkError("unary-error", err, r.seed);
  },

  async "grpcweb/server-stream-error"(info) {
    // The messages arrive, then the status in the trailers.
    const r = request("server-stream-error", 10);
    r.count = 2;
    r.size = 10;
    r.failCode = Code.FailedPrecondition;
    r.failMessage = "browser failure ✗ 100%";
    r.failDetails = true;
    const { opts } = callOpts("server-stream-error");
    const got = [];
    let err = null;
    try {
      for await (const m of client(true).serverStream(r, opts)) got.push(m);
    } catch (e) {
      err = e;
    }
    check(got.length === 3, `${got.length} messages before the error; want 3`);
    check(err != null, "the call succeeded; want FailedPrecondition");
    checkError("server-stream-error", err, r.seed);
  },
};

const denied = {
  // A preflighted REST call: the preflight gets no
  // Access-Control-Allow-Origin, so the browser never sends the POST.
  async "rest/preflighted"(info) {
    const id = `${run}-denied-rest`;
    info.reqId = id;
    const err = await restPost("/v1/echo", { text: "must not arrive" }, id).then(
      (res) => new Error(`fetch answered HTTP ${res.status}; want a CORS failure`),
      (e) => (e instanceof TypeError ? null : e),
    );
    check(err === null, String(err));
  },

  // A simple GET (no preflight): the gateway answers, but without
  // Access-Control-Allow-Origin the browser does not let the page read it.
  async "rest/simple-get"(info) {
    const err = await fetch(`${gateway}/v1/echo/${run}-simple`, { signal: AbortSignal.timeout(10000) }).then(
      (res) => new Error(`fetch answered HTTP ${res.status}; want a CORS failure`),
      (e) => (e instanceof TypeError ? null : e),
    );
    check(err === null, String(err));
  },

  // gRPC-Web: the preflight fails, the call ends with a transport error.
  async "grpcweb/unary"(info) {
    const id = `${run}-denied-grpcweb`;
    info.reqId = id;
    const r = request("denied", 10);
    const err = await client(true)
      .unary(r, { headers: { "x-req-id": id, "x-custom-header": "denied" }, timeoutMs: 10000 })
      .then(
        () => new Error("the call succeeded; want a CORS failure"),
        (e) => e,
      );
    check(err instanceof ConnectError, `not a ConnectError: ${err}`);
    info.code = Code[err.code];
    info.message = err.rawMessage;
  },
};

// ---- gRPC-Web helpers ----

function client(binary) {
  return createClient(Echo, createGrpcWebTransport({ baseUrl: gateway, useBinaryFormat: binary }));
}

function request(name, size) {
  return create(EchoRequest, {
    payload: payload(BigInt(size), 0, size),
    text: `browser ✓ ${name}`,
    id: `browser-${name}`,
    seed: 7n,
  });
}

const binValue = Uint8Array.from([0, 255, 127, 1, 2, 3]);

// callOpts: custom headers (text and -bin), a deadline, and the response
// headers and trailers as the client saw them.
function callOpts(name) {
  let h, t;
  return {
    hdr: () => h,
    trl: () => t,
    opts: {
      headers: {
        "x-req-id": `${run}-grpcweb-${name}`,
        "x-custom-header": `header ${name}`,
        "x-custom-bin": b64(binValue),
      },
      timeoutMs: 10000,
      onHeader: (x) => (h = x),
      onTrailer: (x) => (t = x),
    },
  };
}

// checkMeta: response headers echo the request's (x-custom-header and
// x-custom-bin through cors.expose_headers), trailers echo them under "t-"
// (in the body: no exposure needed).
function checkMeta(name, hdr, trl) {
  check(hdr?.get("x-custom-header") === `header ${name}`, `header x-custom-header: ${hdr?.get("x-custom-header")}`);
  const bin = hdr?.get("x-custom-bin");
  check(bin != null && eq(unb64(bin), binValue), `header x-custom-bin: ${bin}`);
  check(trl?.get("t-x-custom-header") === `header ${name}`, `trailer t-x-custom-header: ${trl?.get("t-x-custom-header")}`);
  check(trl?.get("t-x-req-id") === `${run}-grpcweb-${name}`, `trailer t-x-req-id: ${trl?.get("t-x-req-id")}`);
  const tbin = trl?.get("t-x-custom-bin");
  check(tbin != null && eq(unb64(tbin), binValue), `trailer t-x-custom-bin: ${tbin}`);
}

function checkError(name, err, seed) {
  check(err instanceof ConnectError, `not a ConnectError: ${err}`);
  check(err.code === Code.FailedPrecondition, `code ${Code[err.code]} (${err.rawMessage}); want FailedPrecondition`);
  check(err.rawMessage === "browser failure ✗ 100%", `message ${JSON.stringify(err.rawMessage)}`);
  const ds = err.findDetails(ErrorDetail);
  check(ds.length === 1 && eq(ds[0].data, details(seed)), `details ${ds.map((d) => hex(d.data))}; want ${hex(details(seed))}`);
  // err.metadata holds headers and trailers together.
  check(err.metadata.get("x-custom-header") === `header ${name}`, `error header x-custom-header: ${err.metadata.get("x-custom-header")}`);
  check(err.metadata.get("t-x-custom-header") === `header ${name}`, `error trailer t-x-custom-header: ${err.metadata.get("t-x-custom-header")}`);
}

function checkEcho(m, r, index) {
  check(eq(m.payload, r.payload), `payload ${m.payload.length} bytes; want ${r.payload.length}`);
  check(m.text === r.text && m.id === r.id && m.index === index, `message ${m.text}/${m.id}/${m.index}`);
}

// ---- run ----

async function main() {
  const cases = mode === "allowed" ? allowed : mode === "denied" ? denied : {};
  // Results so far and the case running, for a driver that gave up waiting.
  const results = (window.straitPartial = []);
  for (const [name, fn] of Object.entries(cases)) {
    window.straitCurrent = name;
    const info = {};
    try {
      await fn(info);
      results.push({ name, ok: true, info });
    } catch (e) {
      results.push({ name, ok: false, error: String(e?.stack ?? e), info });
    }
  }
  if (results.length === 0) results.push({ name: "setup", ok: false, error: `unknown mode ${mode}` });
  window.straitResults = results;
}

main().catch((e) => (window.straitResults = [{ name: "setup", ok: false, error: String(e?.stack ?? e) }]));
