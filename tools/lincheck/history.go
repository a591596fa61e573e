package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/anishathalye/porcupine"
)

// History is the file the runner writes for one phase (test/linearizability/history.ts).
// Times are nanoseconds on the runner's one monotonic clock, from the phase's start.
type History struct {
	Phase   string    `json:"phase"`
	Movies  []Movie   `json:"movies"`
	Ops     []Op      `json:"ops"`
	Nemesis []Episode `json:"nemesis"`
}

// Movie is one register: its id and the state read before the clients started.
type Movie struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Initial Value  `json:"initial"`
}

// Value is what a read returns and what a write leaves: the movie's revision and rating.
type Value struct {
	Revision int64    `json:"revision"`
	Rating   *float64 `json:"rating"`
}

// Op is one call. F is "read" (GetMovie) or "write" (UpdateRating, writing Written).
// OK is false when the call failed or passed its deadline: Out is then absent.
type Op struct {
	Client   int      `json:"client"`
	Instance int      `json:"instance"`
	Movie    string   `json:"movie"`
	F        string   `json:"f"`
	By       string   `json:"by"`
	Written  *float64 `json:"written"`
	Invoke   int64    `json:"invoke"`
	Complete int64    `json:"complete"`
	OK       bool     `json:"ok"`
	Out      *Value   `json:"out"`
	Error    string   `json:"error"`
	Served   string   `json:"served"`
}

// Episode is a fault the nemesis applied, shown in the visualization.
type Episode struct {
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	What  string `json:"what"`
}

func readHistory(path string) (*History, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var h History
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(h.Movies) == 0 {
		return nil, fmt.Errorf("%s: no movies", path)
	}
	known := map[string]bool{}
	for _, m := range h.Movies {
		known[m.ID] = true
	}
	for i, op := range h.Ops {
		switch {
		case !known[op.Movie]:
			return nil, fmt.Errorf("%s: op %d: unknown movie %q", path, i, op.Movie)
		case op.F != "read" && op.F != "write":
			return nil, fmt.Errorf("%s: op %d: f must be read or write, not %q", path, i, op.F)
		case op.F == "write" && op.Written == nil:
			return nil, fmt.Errorf("%s: op %d: a write without the rating it wrote", path, i)
		case op.OK && op.Out == nil:
			return nil, fmt.Errorf("%s: op %d: a successful call without its answer", path, i)
		case op.Complete < op.Invoke:
			return nil, fmt.Errorf("%s: op %d: completes before it is invoked", path, i)
		}
	}
	return &h, nil
}

// Tally counts a movie's calls as the verdict line prints them.
type Tally struct {
	Reads, FailedReads, Writes, UnknownWrites, UnknownKept, UnknownBounded int
}

// operations turns one movie's calls into Porcupine operations: failed reads are dropped
// (they returned nothing), and a failed write may have happened at any time after its
// invocation, so it returns at infinity; those that cannot have happened before the last
// state observed are dropped too (see mayHaveTakenEffect).
func operations(h *History, movie Movie) ([]porcupine.Operation, Tally) {
	var known, unknown []porcupine.Operation
	var t Tally
	for _, op := range h.Ops {
		if op.Movie != movie.ID {
			continue
		}
		in := Input{Write: op.F == "write", By: op.By}
		if in.Write {
			in.Rating = *op.Written
		}
		out := Output{Known: op.OK}
		ret := op.Complete
		switch {
		case op.OK:
			out.Value = stateOf(*op.Out)
		case in.Write:
			out.Error = op.Error
			ret = math.MaxInt64
		default:
			t.FailedReads++
			continue
		}
		if in.Write {
			t.Writes++
		} else {
			t.Reads++
		}
		operation := porcupine.Operation{
			ClientId: op.Client,
			Input:    in,
			Call:     op.Invoke,
			Output:   out,
			Return:   ret,
			Metadata: fmt.Sprintf("instance %d%s", op.Instance, servedNote(op.Served)),
		}
		if out.Known {
			known = append(known, operation)
		} else {
			unknown = append(unknown, operation)
		}
	}
	t.UnknownWrites = len(unknown)
	ops := known
	for _, w := range mayHaveTakenEffect(stateOf(movie.Initial), known, unknown) {
		if ret, ok := tookEffectBy(w, known); ok {
			w.Return = ret
			t.UnknownBounded++
		}
		ops = append(ops, w)
		t.UnknownKept++
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	return ops, t
}

// mayHaveTakenEffect keeps the writes of unknown outcome that may have produced a revision
// someone observed; dropping the others is exact. Each write produces the next revision, so
// every revision from the initial one to the highest observed was produced by exactly one
// write, and a revision no successful write returned was produced by an unknown one. A read
// of such a revision shows its producer's rating; one nobody read was produced by a write
// invoked before the first call that observed it or a later revision returned. An unknown
// write that produced none of them comes after every observation: the same as never.
// Without this, many failed writes (a failover) make Porcupine's search exponential.
func mayHaveTakenEffect(initial State, known, unknown []porcupine.Operation) []porcupine.Operation {
	highest := initial.Revision
	produced := map[int64]bool{}
	seen := map[int64]map[float64]bool{} // revision -> ratings reads returned with it
	for _, op := range known {
		out := op.Output.(Output).Value
		if out.Revision > highest {
			highest = out.Revision
		}
		if op.Input.(Input).Write {
			produced[out.Revision] = true
		} else if out.Rated {
			if seen[out.Revision] == nil {
				seen[out.Revision] = map[float64]bool{}
			}
			seen[out.Revision][out.Rating] = true
		}
	}
	// The latest invocation an unread revision's producer may have: before some call that
	// observed that revision or a later one returned.
	unreadBy := int64(math.MinInt64)
	ratings := map[float64]bool{}
	for r := initial.Revision + 1; r <= highest; r++ {
		switch {
		case produced[r]:
		case len(seen[r]) == 0:
			if by := firstReturnFrom(r, known); by > unreadBy {
				unreadBy = by
			}
		default:
			for rating := range seen[r] {
				ratings[rating] = true
			}
		}
	}
	var kept []porcupine.Operation
	for _, w := range unknown {
		if ratings[w.Input.(Input).Rating] || w.Call < unreadBy {
			kept = append(kept, w)
		}
	}
	return kept
}

// firstReturnFrom is when the first call that returned revision r or a later one returned.
func firstReturnFrom(r int64, known []porcupine.Operation) int64 {
	first := int64(math.MaxInt64)
	for _, op := range known {
		if op.Output.(Output).Value.Revision >= r && op.Return < first {
			first = op.Return
		}
	}
	return first
}

// tookEffectBy bounds a write of unknown outcome that a read shows took effect: a read
// returned its rating (each write's is its own), so it produced that revision, and it
// linearized before every call that returned that revision or a later one, so before the
// earliest of them returned. Its return moves there from infinity; this is exact (a
// linearization of either history is one of the other) and spares Porcupine a write it would
// otherwise keep pending through the whole search.
func tookEffectBy(w porcupine.Operation, known []porcupine.Operation) (int64, bool) {
	rating := w.Input.(Input).Rating
	revision := int64(-1)
	for _, op := range known {
		out := op.Output.(Output).Value
		if !op.Input.(Input).Write && out.Rated && out.Rating == rating {
			revision = out.Revision
			break
		}
	}
	if revision < 0 {
		return 0, false
	}
	return firstReturnFrom(revision, known), true
}

func servedNote(served string) string {
	if served == "" {
		return ""
	}
	return ", " + served
}

// annotations shows the nemesis's faults on a row of their own.
func annotations(h *History) []porcupine.Annotation {
	var list []porcupine.Annotation
	for _, e := range h.Nemesis {
		list = append(list, porcupine.Annotation{
			Tag:             "nemesis",
			Start:           e.Start,
			End:             e.End,
			Description:     e.What,
			BackgroundColor: "#f6d5d5",
		})
	}
	return list
}
