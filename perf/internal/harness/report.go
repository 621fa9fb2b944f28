package harness

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Stats are the medians of a series' good runs.
type Stats struct {
	QPS, P50, P99, CPU, RSS float64 // req/s, ms, ms, µs per request, MB
	Spread                  float64 // (max-min)/median of QPS
	Errors                  int64
	N                       int
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Summarize returns the medians of s's runs that completed requests without
// error (ok is false when there is none) and why the others did not count.
func Summarize(s *Series) (st Stats, ok bool, why []string) {
	var qps, p50, p99, cpu, rss []float64
	for i, r := range s.Runs {
		st.Errors += r.Errors
		switch {
		case errors.Is(r.Err, ErrGatewayExited) && s.Failed != "":
			// s.Failed says it, with the crash line
		case r.Err != nil:
			why = append(why, fmt.Sprintf("run %d: %v", i+1, r.Err))
		case r.Requests == 0:
			why = append(why, fmt.Sprintf("run %d: no request completed", i+1))
		default:
			qps = append(qps, r.QPS)
			p50 = append(p50, ms(r.P50))
			p99 = append(p99, ms(r.P99))
			cpu = append(cpu, float64(r.CPUPerReq)/float64(time.Microsecond))
			rss = append(rss, float64(r.PeakKB)/1024)
		}
	}
	if s.Failed != "" {
		why = append(why, s.Failed)
	}
	if len(qps) == 0 {
		if len(why) == 0 {
			why = append(why, "not run (time limit)")
		}
		return st, false, why
	}
	st.N = len(qps)
	st.QPS, st.P50, st.P99, st.CPU, st.RSS = median(qps), median(p50), median(p99), median(cpu), median(rss)
	st.Spread = (slices.Max(qps) - slices.Min(qps)) / st.QPS
	return st, true, why
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cell formats v and, when the baseline has a figure, v/base.
func cell(v, base float64, format string) string {
	s := fmt.Sprintf(format, v)
	if base > 0 {
		s += fmt.Sprintf(" (%.2f×)", v/base)
	}
	return s
}

// WriteTable writes one markdown block per cell.
func WriteTable(w io.Writer, results []*CellResult) {
	for _, cr := range results {
		c := cr.Cell
		fmt.Fprintf(w, "\n### %s, %d connections (%s)\n\n", c.W.Title, c.Conns, c.W.Tool)
		fmt.Fprintf(w, "Ratios (×) are to %s from the same run.\n\n", c.W.Baseline)
		fmt.Fprintln(w, "| gateway | QPS | P50 ms | P99 ms | CPU µs/req | peak RSS MB | errors | QPS spread | runs |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
		var base Stats
		for _, s := range cr.Series {
			if s.Gateway == c.W.Baseline {
				base, _, _ = Summarize(s)
			}
		}
		var notes []string
		for _, s := range cr.Series {
			if why := writeRow(w, s, base); len(why) > 0 {
				notes = append(notes, fmt.Sprintf("- %s: %s", s.Gateway, oneLine(strings.Join(why, "; "), 400)))
			}
		}
		if len(notes) > 0 {
			fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
		}
	}
}

// writeRow writes s's row and returns why some or all of its runs failed.
func writeRow(w io.Writer, s *Series, base Stats) []string {
	st, ok, why := Summarize(s)
	if !ok {
		fmt.Fprintf(w, "| %s | failed (see below) | | | | | | | |\n", s.Gateway)
		return why
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %d | ±%.1f%% | %d/%d |\n", s.Gateway,
		cell(st.QPS, base.QPS, "%.0f"), cell(st.P50, base.P50, "%.2f"), cell(st.P99, base.P99, "%.2f"),
		cell(st.CPU, base.CPU, "%.1f"), cell(st.RSS, base.RSS, "%.1f"), st.Errors, st.Spread*50, st.N, len(s.Runs))
	return why
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// WriteSummary writes one line per block: strait's QPS and CPU per request
// as ratios to the baseline, and which gateway spent the least CPU.
func WriteSummary(w io.Writer, results []*CellResult) {
	fmt.Fprintln(w, "| workload | conns | strait QPS | × baseline | strait CPU µs/req | × baseline | least CPU/req |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, cr := range results {
		stats := map[string]Stats{}
		best, bestCPU := "", 0.0
		for _, s := range cr.Series {
			if st, ok, _ := Summarize(s); ok {
				stats[s.Gateway] = st
				if best == "" || st.CPU < bestCPU {
					best, bestCPU = s.Gateway, st.CPU
				}
			}
		}
		st, ok := stats[Strait]
		base, hasBase := stats[cr.Cell.W.Baseline]
		row := []string{cr.Cell.W.Name, fmt.Sprint(cr.Cell.Conns), "failed", "", "failed", "", best}
		if ok {
			row[2], row[4] = fmt.Sprintf("%.0f", st.QPS), fmt.Sprintf("%.1f", st.CPU)
			if hasBase {
				row[3] = fmt.Sprintf("%.2f× %s", st.QPS/base.QPS, cr.Cell.W.Baseline)
				row[5] = fmt.Sprintf("%.2f× %s", st.CPU/base.CPU, cr.Cell.W.Baseline)
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}
