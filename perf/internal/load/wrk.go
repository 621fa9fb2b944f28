package load

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// ParseWrk reads `wrk --latency` output.
func ParseWrk(out string) (Result, error) {
	var r Result
	var seen int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "50%":
			r.P50, _ = parseDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.P99, _ = parseDuration(f[1])
		case len(f) > 3 && f[1] == "requests" && f[2] == "in":
			r.Requests = atoi(f[0])
			seen++
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			r.QPS, _ = strconv.ParseFloat(f[1], 64)
			seen++
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:") && len(f) == 5:
			r.Errors += atoi(f[4])
		case strings.HasPrefix(line, "Socket errors:"):
			r.Errors += wrkSocketErrors(line)
		}
	}
	if seen < 2 {
		return r, fmt.Errorf("%w (wrk): %.300q", ErrNoSummary, out)
	}
	return r, nil
}

// wrkSocketErrors sums "Socket errors: connect 0, read 0, write 0, timeout 0".
func wrkSocketErrors(line string) int64 {
	var n int64
	for _, k := range []string{"connect ", "read ", "write ", "timeout "} {
		if v, ok := fieldAfter(line, k); ok {
			n += atoi(v)
		}
	}
	return n
}

// LuaScript is a wrk script sending method with body and headers (name,
// value pairs). Every body byte is a 3-digit decimal escape, so binary
// gRPC-Web frames pass through Lua unchanged.
func LuaScript(method string, body []byte, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", method)
	if len(body) > 0 {
		b.WriteString("wrk.body = \"")
		for _, c := range body {
			fmt.Fprintf(&b, "\\%03d", c)
		}
		b.WriteString("\"\n")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", headers[i], headers[i+1])
	}
	return b.String()
}
