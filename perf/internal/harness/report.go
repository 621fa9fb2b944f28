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
	Tool                    float64 // the load tool's µs per request
	Spread                  float64 // (max-min)/median of QPS
	Errors                  int64   // over every run, counted or not
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

// Summarize returns the medians of s's runs that completed requests with
// at most MaxErrorShare failed (ok is false when there is none) and why
// the others did not count, or had errors.
func Summarize(s *Series) (st Stats, ok bool, why []string) {
	var qps, p50, p99, cpu, rss, tool []float64
	for i, r := range s.Runs {
		st.Errors += r.Errors
		share := float64(r.Errors) / float64(max(r.Requests+r.Errors, 1))
		switch {
		case errors.Is(r.Err, ErrGatewayExited) && s.Failed != "":
			// s.Failed says it, with the crash line
		case r.Err != nil:
			why = append(why, fmt.Sprintf("run %d: %v", i+1, r.Err))
		case r.Requests == 0:
			why = append(why, fmt.Sprintf("run %d: no request succeeded (%d failed%s)", i+1, r.Errors, whyText(r.Why)))
		case share > MaxErrorShare:
			why = append(why, fmt.Sprintf("run %d: not counted, %.1f%% of requests failed (%d%s)", i+1, 100*share, r.Errors, whyText(r.Why)))
		default:
			if r.Errors > 0 {
				why = append(why, fmt.Sprintf("run %d: %d errors%s", i+1, r.Errors, whyText(r.Why)))
			}
			qps = append(qps, r.QPS)
			p50 = append(p50, ms(r.P50))
			p99 = append(p99, ms(r.P99))
			cpu = append(cpu, us(r.CPUPerReq))
			rss = append(rss, float64(r.PeakKB)/1024)
			tool = append(tool, us(r.ToolPerReq))
		}
	}
	if s.Failed != "" {
		why = append(why, s.Failed)
	}
	if s.After != "" {
		why = append(why, "after the load: "+s.After)
	}
	if s.Log != "" {
		why = append(why, s.Log)
	}
	if len(qps) == 0 {
		if len(why) == 0 {
			why = append(why, "not run (time limit)")
		}
		return st, false, why
	}
	st.N = len(qps)
	st.QPS, st.P50, st.P99, st.CPU, st.RSS, st.Tool = median(qps), median(p50), median(p99), median(cpu), median(rss), median(tool)
	st.Spread = (slices.Max(qps) - slices.Min(qps)) / st.QPS
	return st, true, why
}

func whyText(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

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
		fmt.Fprintf(w, "\n### %s, %d connections (%s)\n\n", c.W.Title, c.Conns, cr.tool())
		fmt.Fprintf(w, "Ratios (×) are to %s from the same run.\n\n", cr.baseline())
		fmt.Fprintln(w, "| gateway | QPS | P50 ms | P99 ms | CPU µs/req | peak RSS MB | errors | QPS spread | runs | load tool µs/req |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
		var base Stats
		for _, s := range cr.Series {
			if s.Gateway == cr.baseline() {
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
		fmt.Fprintf(w, "| %s | failed (see below) | | | | | %d | | 0/%d | |\n", s.Gateway, st.Errors, len(s.Runs))
		return why
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %d | ±%.1f%% | %d/%d | %.1f |\n", s.Gateway,
		cell(st.QPS, base.QPS, "%.0f"), cell(st.P50, base.P50, "%.2f"), cell(st.P99, base.P99, "%.2f"),
		cell(st.CPU, base.CPU, "%.1f"), cell(st.RSS, base.RSS, "%.1f"), st.Errors, st.Spread*50, st.N, len(s.Runs), st.Tool)
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
		base, hasBase := stats[cr.baseline()]
		row := []string{cr.Cell.W.Name, fmt.Sprint(cr.Cell.Conns), "failed", "", "failed", "", best}
		if ok {
			row[2], row[4] = fmt.Sprintf("%.0f", st.QPS), fmt.Sprintf("%.1f", st.CPU)
			if hasBase {
				row[3] = fmt.Sprintf("%.2f× %s", st.QPS/base.QPS, cr.baseline())
				row[5] = fmt.Sprintf("%.2f× %s", st.CPU/base.CPU, cr.baseline())
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

// WriteStraits writes, when a run has more than one strait, one line per
// cell and strait: its figures and its ratios to strait from the same runs
// (interleaved, so before/after compare on the same machine state). It
// writes nothing with one strait.
func WriteStraits(w io.Writer, results []*CellResult) {
	var names []string
	for _, cr := range results {
		for _, s := range cr.Series {
			if IsStrait(s.Gateway) && s.Gateway != Strait && !slices.Contains(names, s.Gateway) {
				names = append(names, s.Gateway)
			}
		}
	}
	if len(names) == 0 {
		return
	}
	fmt.Fprintln(w, "| workload | conns | gateway | QPS | × strait | CPU µs/req | × strait | P99 ms | × strait | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, cr := range results {
		var ref Stats
		for _, s := range cr.Series {
			if s.Gateway == Strait {
				ref, _, _ = Summarize(s)
			}
		}
		for _, s := range cr.Series {
			if !IsStrait(s.Gateway) {
				continue
			}
			st, ok, _ := Summarize(s)
			row := []string{cr.Cell.W.Name, fmt.Sprint(cr.Cell.Conns), s.Gateway, "failed", "", "", "", "", "", fmt.Sprint(st.Errors)}
			if ok {
				row[3], row[5], row[7] = fmt.Sprintf("%.0f", st.QPS), fmt.Sprintf("%.1f", st.CPU), fmt.Sprintf("%.2f", st.P99)
				if ref.N > 0 {
					row[4], row[6], row[8] = ratio(st.QPS, ref.QPS), ratio(st.CPU, ref.CPU), ratio(st.P99, ref.P99)
				}
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	}
}

func ratio(v, ref float64) string {
	if ref <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", v/ref)
}

func (cr *CellResult) tool() string {
	if cr.Tool != "" {
		return cr.Tool
	}
	return cr.Cell.W.Tool
}

func (cr *CellResult) baseline() string {
	if cr.Baseline != "" {
		return cr.Baseline
	}
	return cr.Cell.W.Baseline
}
