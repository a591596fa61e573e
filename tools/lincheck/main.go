// Command lincheck checks a history of GetMovie and UpdateRating calls for linearizability,
// each movie as a register of (revision, rating), with Porcupine.
//
// Usage: lincheck [-timeout 60s] [-html PREFIX] history.json
//
// It prints a verdict per movie and exits 0 when every movie's history is linearizable,
// 1 when one is not, 3 when the check of one timed out (unknown: counted as a failure),
// 2 on bad usage or an unreadable history. With -html it writes Porcupine's visualization
// of each movie to PREFIX<n>.html (n from 1, in the history's order of movies).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

const (
	exitOK      = 0
	exitIllegal = 1
	exitUsage   = 2
	exitUnknown = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("lincheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	timeout := flags.Duration("timeout", time.Minute, "give up on a movie's check after this long (verdict unknown)")
	html := flags.String("html", "", "write each movie's visualization to `PREFIX`<n>.html")
	if err := flags.Parse(args); err != nil {
		return exitUsage
	}
	if flags.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: lincheck [-timeout 60s] [-html PREFIX] history.json")
		return exitUsage
	}
	h, err := readHistory(flags.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "lincheck:", err)
		return exitUsage
	}
	verdicts := make([]verdict, len(h.Movies))
	var wg sync.WaitGroup
	for i := range h.Movies {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			verdicts[i] = checkMovie(h, i, *timeout, *html)
		}(i)
	}
	wg.Wait()
	code := exitOK
	for _, v := range verdicts {
		fmt.Fprintln(stdout, v.line)
		code = worse(code, v.code)
	}
	fmt.Fprintf(stdout, "%s: %s\n", h.Phase, summary(code))
	return code
}

type verdict struct {
	line string
	code int
}

func checkMovie(h *History, i int, timeout time.Duration, html string) verdict {
	movie := h.Movies[i]
	histories, t := operations(h, movie)
	model := registerModel(stateOf(movie.Initial))
	started := time.Now()
	result, info := checkAny(model, histories, started.Add(timeout))
	took := time.Since(started).Round(time.Millisecond)
	counts := fmt.Sprintf("%d reads (%d failed, dropped), %d writes (%d unknown, %d of them may have taken effect, %d shown by a read to have), from %s, checked in %s",
		t.Reads, t.FailedReads, t.Writes, t.UnknownWrites, t.UnknownKept, t.UnknownBounded, describe(stateOf(movie.Initial)), took)
	switch {
	case t.Unread > 0 && !t.Searched:
		counts += fmt.Sprintf(" (%d revisions nobody read: %d ways to pick their producers)", t.Unread, t.Choices)
	case t.Unread > 0:
		counts += fmt.Sprintf(" (%d revisions nobody read: over %d ways to pick their producers, searched at once)", t.Unread, MaxChoices)
	}
	v := verdict{code: exitOK}
	switch result {
	case porcupine.Ok:
		v.line = fmt.Sprintf("movie %s (%s): linearizable: %s", movie.ID, movie.Title, counts)
	case porcupine.Illegal:
		v.code = exitIllegal
		v.line = fmt.Sprintf("movie %s (%s): NOT LINEARIZABLE: %s", movie.ID, movie.Title, counts)
	default:
		v.code = exitUnknown
		v.line = fmt.Sprintf("movie %s (%s): UNKNOWN: the check passed its %s timeout: %s",
			movie.ID, movie.Title, timeout, counts)
	}
	if html != "" {
		path := fmt.Sprintf("%s%d.html", html, i+1)
		info.AddAnnotations(annotations(h))
		if err := porcupine.VisualizePath(model, info, path); err != nil {
			v.line += fmt.Sprintf("; visualization failed: %v", err)
			v.code = worse(v.code, exitUsage)
		} else {
			v.line += "; visualization " + path
		}
	}
	return v
}

// checkAny checks the histories in turn until one is linearizable: Ok then, with its
// linearization; Illegal when none is, shown by the first; Unknown when the deadline passed
// first.
func checkAny(model porcupine.Model, histories [][]porcupine.Operation, deadline time.Time) (porcupine.CheckResult, porcupine.LinearizationInfo) {
	var first porcupine.LinearizationInfo
	for n, ops := range histories {
		left := time.Until(deadline)
		if left <= 0 {
			return porcupine.Unknown, first
		}
		result, info := porcupine.CheckOperationsVerbose(model, ops, left)
		if n == 0 {
			first = info
		}
		if result != porcupine.Illegal {
			return result, info
		}
	}
	return porcupine.Illegal, first
}

// worse orders the outcomes: a violation over an unknown check over a usage error over ok.
func worse(a, b int) int {
	rank := map[int]int{exitOK: 0, exitUsage: 1, exitUnknown: 2, exitIllegal: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func summary(code int) string {
	switch code {
	case exitOK:
		return "linearizable"
	case exitIllegal:
		return "NOT LINEARIZABLE"
	case exitUnknown:
		return "UNKNOWN (a check timed out)"
	default:
		return "error"
	}
}
