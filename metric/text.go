package metric

import (
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// WriteText writes what g gathers in the Prometheus text format (0.0.4),
// after whatever the caller wrote before: the names must not repeat.
func WriteText(w io.Writer, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs { // what gathered, even when something failed
		if werr := enc.Encode(mf); werr != nil {
			return werr
		}
	}
	return err
}
