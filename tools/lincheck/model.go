package main

import (
	"fmt"
	"math"

	"github.com/anishathalye/porcupine"
)

// State is the register one movie is: its revision and rating (Rated false: no rating).
type State struct {
	Revision int64
	Rating   float64
	Rated    bool
}

// Input is a call: a read (by id or by title) or a write of Rating.
type Input struct {
	Write  bool
	By     string
	Rating float64
}

// Output is a call's answer. Known false: a write that failed or timed out, whose effect
// is unknown (it returns at infinity, so it may also linearize after everything: never).
type Output struct {
	Known bool
	Value State
	Error string
}

func stateOf(v Value) State {
	if v.Rating == nil {
		return State{Revision: v.Revision}
	}
	return State{Revision: v.Revision, Rating: *v.Rating, Rated: true}
}

// registerModel is one movie's sequential specification. A read returns the state. Every
// UpdateRating through the API does `$inc revision` once: a successful write returns the
// next revision with the rating it wrote, and a write of unknown outcome, if it took effect,
// did the same.
func registerModel(initial State) porcupine.Model {
	return porcupine.Model{
		Init: func() interface{} { return initial },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			st, in, out := state.(State), input.(Input), output.(Output)
			if !in.Write {
				return out.Value == st, st
			}
			next := State{Revision: st.Revision + 1, Rating: in.Rating, Rated: true}
			if !out.Known {
				return true, next
			}
			return out.Value == next, next
		},
		Hash: func(state interface{}) uint64 {
			st := state.(State)
			return uint64(st.Revision)*31 + math.Float64bits(st.Rating)
		},
		DescribeOperation: func(input, output interface{}) string {
			in, out := input.(Input), output.(Output)
			if !in.Write {
				return fmt.Sprintf("read by %s → %s", in.By, describe(out.Value))
			}
			if !out.Known {
				return fmt.Sprintf("write %g → unknown (%s)", in.Rating, out.Error)
			}
			return fmt.Sprintf("write %g → %s", in.Rating, describe(out.Value))
		},
		DescribeState: func(state interface{}) string { return describe(state.(State)) },
	}
}

func describe(st State) string {
	if !st.Rated {
		return fmt.Sprintf("r%d (no rating)", st.Revision)
	}
	return fmt.Sprintf("r%d %g", st.Revision, st.Rating)
}
