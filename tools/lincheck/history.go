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
	// Unread is how many revisions unknown writes produced that no call returned, and Choices
	// how many ways to pick their producers were checked one by one (Searched: too many, so
	// all candidates were kept at once).
	Unread, Choices int
	Searched        bool
}

// MaxChoices bounds the checks of one movie when its unread revisions' producers are picked
// one way at a time; past it, every candidate is kept at once and Porcupine searches.
const MaxChoices = 2000

// operations turns one movie's calls into the histories to check, any one of which being
// linearizable makes the movie's linearizable. Failed reads are dropped (they returned
// nothing). A failed write may have happened at any time after its invocation, so it returns
// at infinity, unless a read shows it took effect (tookEffectBy) or it cannot have produced
// any revision observed, when it is dropped (the same as never). What remains are the
// candidates for the revisions nobody read: each such revision had exactly one of them as its
// producer, so each history keeps one way of picking them (see producerChoices).
func operations(h *History, movie Movie) ([][]porcupine.Operation, Tally) {
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
	obs := observe(stateOf(movie.Initial), known)
	t.Unread = len(obs.unread)
	base := known
	var candidates []porcupine.Operation
	for _, w := range unknown {
		if ret, ok := tookEffectBy(w, known); ok {
			w.Return = ret
			base = append(base, w)
			t.UnknownBounded++
		} else if len(obs.unread) > 0 && w.Call < obs.by[len(obs.by)-1] {
			candidates = append(candidates, w)
		}
	}
	t.UnknownKept = t.UnknownBounded + len(candidates)
	var histories [][]porcupine.Operation
	if picks, ok := producerChoices(candidates, obs.by); ok {
		t.Choices = len(picks)
		for _, pick := range picks {
			histories = append(histories, sorted(append(append([]porcupine.Operation{}, base...), pick...)))
		}
		if len(picks) == 0 { // too few candidates: no unknown write's effect explains the revisions
			histories = [][]porcupine.Operation{sorted(base)}
		}
	} else {
		t.Searched = true
		histories = [][]porcupine.Operation{sorted(append(base, candidates...))}
	}
	return histories, t
}

func sorted(ops []porcupine.Operation) []porcupine.Operation {
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	return ops
}

// observation is what the successful calls say about the revisions: those from the initial
// one to the highest observed that no call returned, in order, and for each the time by which
// its producer had linearized (the first return of that revision or a later one).
type observation struct {
	unread []int64
	by     []int64
}

// observe finds the unread revisions. Each write produces the next revision, so every revision
// up to the highest observed was produced by exactly one write; one no successful write
// returned and no read returned was produced by a write of unknown outcome nobody saw.
func observe(initial State, known []porcupine.Operation) observation {
	highest := initial.Revision
	returned := map[int64]bool{}
	for _, op := range known {
		out := op.Output.(Output).Value
		if out.Revision > highest {
			highest = out.Revision
		}
		returned[out.Revision] = true
	}
	var obs observation
	for r := initial.Revision + 1; r <= highest; r++ {
		if !returned[r] {
			obs.unread = append(obs.unread, r)
			obs.by = append(obs.by, firstReturnFrom(r, known))
		}
	}
	return obs
}

// producerChoices lists the ways to pick the producers of the unread revisions from the
// candidates (one each, distinct), each bounded to return by the last unread revision's time;
// false when there are more than MaxChoices. Exact: in any linearization the unread revisions
// have exactly these producers among the unknown writes, and every other unknown write not
// shown to have taken effect comes after every observation, the same as never. A pick must
// have, for each k, k writes invoked before the k-th unread revision's time.
func producerChoices(candidates []porcupine.Operation, by []int64) ([][]porcupine.Operation, bool) {
	sort.SliceStable(candidates, func(i, j int) bool { return candidates[i].Call < candidates[j].Call })
	var picks [][]porcupine.Operation
	var pick []porcupine.Operation
	var walk func(from int) bool
	walk = func(from int) bool {
		k := len(pick)
		if k == len(by) {
			if len(picks) == MaxChoices {
				return false
			}
			chosen := make([]porcupine.Operation, k)
			for i, w := range pick {
				w.Return = by[len(by)-1]
				chosen[i] = w
			}
			picks = append(picks, chosen)
			return true
		}
		// Picked in order of invocation, the k-th must be invoked before the k-th revision's time.
		for i := from; i < len(candidates) && candidates[i].Call < by[k]; i++ {
			pick = append(pick, candidates[i])
			ok := walk(i + 1)
			pick = pick[:k]
			if !ok {
				return false
			}
		}
		return true
	}
	if !walk(0) {
		return nil, false
	}
	return picks, true
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
