package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rating(r float64) *float64 { return &r }

func read(client int, invoke, complete, revision int64, r float64) Op {
	return Op{Client: client, Movie: "m", F: "read", By: "id", Invoke: invoke, Complete: complete,
		OK: true, Out: &Value{Revision: revision, Rating: rating(r)}}
}

func write(client int, invoke, complete int64, r float64, revision int64) Op {
	return Op{Client: client, Movie: "m", F: "write", By: "id", Written: rating(r), Invoke: invoke,
		Complete: complete, OK: true, Out: &Value{Revision: revision, Rating: rating(r)}}
}

func failedWrite(client int, invoke, complete int64, r float64) Op {
	return Op{Client: client, Movie: "m", F: "write", By: "id", Written: rating(r), Invoke: invoke,
		Complete: complete, Error: "DEADLINE_EXCEEDED"}
}

// writeHistory writes one movie's history to a file, as the runner does.
func writeHistory(t *testing.T, ops []Op) string {
	t.Helper()
	h := History{Phase: "test", Ops: ops, Movies: []Movie{
		{ID: "m", Title: "M", Initial: Value{Revision: 0, Rating: rating(5)}},
	}}
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "history.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// check runs the command on the history with a visualization, as the runner does.
func check(t *testing.T, ops ...Op) (int, string) {
	t.Helper()
	path := writeHistory(t, ops)
	dir := filepath.Dir(path)
	var out bytes.Buffer
	code := run([]string{"-html", filepath.Join(dir, "movie-"), path}, &out, &out)
	if _, err := os.Stat(filepath.Join(dir, "movie-1.html")); err != nil {
		t.Errorf("no visualization: %v", err)
	}
	return code, out.String()
}

func TestConcurrentReadsMaySeeEitherSideOfAWrite(t *testing.T) {
	code, out := check(t,
		write(0, 10, 50, 7, 1),
		read(1, 20, 30, 1, 7),
		read(2, 25, 60, 0, 5), // started before the r1 read returned
		read(1, 55, 70, 1, 7),
	)
	if code != exitOK || !strings.Contains(out, "test: linearizable") {
		t.Fatalf("want linearizable, got %d:\n%s", code, out)
	}
}

func TestNewOldInversionIsAViolation(t *testing.T) {
	code, out := check(t,
		write(0, 10, 50, 7, 1),
		read(1, 20, 30, 1, 7),
		read(2, 35, 40, 0, 5), // started after a read returned r1, while the write is in flight
	)
	if code != exitIllegal || !strings.Contains(out, "NOT LINEARIZABLE") {
		t.Fatalf("want a violation, got %d:\n%s", code, out)
	}
}

func TestStaleReadAfterAcknowledgedWriteIsAViolation(t *testing.T) {
	code, _ := check(t, write(0, 10, 20, 7, 1), read(1, 30, 40, 0, 5))
	if code != exitIllegal {
		t.Fatalf("want a violation, got %d", code)
	}
}

func TestAWriteMustRaiseTheRevisionByOneAndKeepItsRating(t *testing.T) {
	if code, _ := check(t, write(0, 10, 20, 7, 2)); code != exitIllegal {
		t.Errorf("a skipped revision: want a violation, got %d", code)
	}
	bad := write(0, 10, 20, 7, 1)
	bad.Out.Rating = rating(6)
	if code, _ := check(t, bad); code != exitIllegal {
		t.Errorf("another rating: want a violation, got %d", code)
	}
}

func TestAFailedWriteMayHaveHappenedOrNot(t *testing.T) {
	if code, out := check(t, failedWrite(0, 10, 20, 7), read(1, 500, 510, 1, 7)); code != exitOK {
		t.Errorf("seen long after it failed: want linearizable, got %d:\n%s", code, out)
	}
	if code, out := check(t, failedWrite(0, 10, 20, 7), read(1, 30, 40, 0, 5)); code != exitOK {
		t.Errorf("never seen: want linearizable, got %d:\n%s", code, out)
	}
	code, _ := check(t, failedWrite(0, 10, 20, 7), read(1, 30, 40, 1, 7), read(2, 50, 60, 0, 5))
	if code != exitIllegal {
		t.Errorf("seen, then unseen: want a violation, got %d", code)
	}
}

func TestFailedReadsAreDropped(t *testing.T) {
	failed := Op{Client: 1, Movie: "m", F: "read", By: "title", Invoke: 30, Complete: 40, Error: "UNAVAILABLE"}
	code, out := check(t, write(0, 10, 20, 7, 1), failed)
	if code != exitOK || !strings.Contains(out, "1 failed, dropped") {
		t.Fatalf("want linearizable with the read dropped, got %d:\n%s", code, out)
	}
}

func TestABadHistoryIsAUsageError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.json")
	if err := os.WriteFile(path, []byte(`{"movies":[{"id":"m"}],"ops":[{"movie":"x","f":"read"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := run([]string{path}, &out, &out); code != exitUsage || !strings.Contains(out.String(), "unknown movie") {
		t.Fatalf("want a usage error, got %d:\n%s", code, out.String())
	}
}

func TestACheckPastItsTimeoutIsUnknown(t *testing.T) {
	// 30 concurrent writes of unknown outcome, then a read of r15 with a rating none wrote:
	// over MaxChoices ways to pick the producers of r1-r14, so Porcupine searches them all at
	// once, exponentially, and the timeout ends it.
	var ops []Op
	for i := 0; i < 30; i++ {
		ops = append(ops, failedWrite(i, 10, 20, float64(i)))
	}
	ops = append(ops, read(30, 30, 40, 15, 1000))
	path := writeHistory(t, ops)
	var out bytes.Buffer
	if code := run([]string{"-timeout", "200ms", path}, &out, &out); code != exitUnknown ||
		!strings.Contains(out.String(), "UNKNOWN") || !strings.Contains(out.String(), "searched at once") {
		t.Fatalf("want unknown, got %d:\n%s", code, out.String())
	}
}

func TestMoreUnreadRevisionsThanWritesThatMayHaveProducedThemIsAViolation(t *testing.T) {
	var ops []Op
	for i := 0; i < 30; i++ {
		ops = append(ops, failedWrite(i, 10, 20, float64(i)))
	}
	ops = append(ops, read(30, 30, 40, 1000, 1))
	code, out := check(t, ops...)
	if code != exitIllegal || !strings.Contains(out, "999 revisions nobody read: 0 ways") {
		t.Fatalf("want not linearizable, got %d:\n%s", code, out)
	}
}

// unreadRevisions is a history where r1 and r3 were produced by writes of unknown outcome
// nobody read, among 20 that failed; r2 and r4 were written and read. Only writes invoked
// before the first return of r3 or later can have produced them.
func unreadRevisions(late int64) []Op {
	var ops []Op
	for i := 0; i < 20; i++ {
		ops = append(ops, failedWrite(i, int64(10+i), 500, float64(i)/10))
	}
	return append(ops,
		write(20, 100, 110, 7.7, 2),
		read(21, 120, 130, 2, 7.7),
		write(20, 140, late, 8.8, 4),
		read(21, late+10, late+20, 4, 8.8),
	)
}

func TestUnreadRevisionsAreCheckedOneWayOfPickingTheirProducersAtATime(t *testing.T) {
	code, out := check(t, unreadRevisions(150)...)
	if code != exitOK || !strings.Contains(out, "20 unknown, 20 of them may have taken effect") ||
		!strings.Contains(out, "2 revisions nobody read: 190 ways") {
		t.Fatalf("want linearizable, got %d:\n%s", code, out)
	}
}

func TestAnUnreadRevisionWhoseOnlyPossibleProducersCameTooLateIsAViolation(t *testing.T) {
	// r1 was unread but r2 was written on top by a write that returned at 110: r1's producer
	// must have been invoked before that. Every unknown write began at 200 or later.
	ops := []Op{write(20, 100, 110, 7.7, 2), read(21, 120, 130, 2, 7.7)}
	for i := 0; i < 5; i++ {
		ops = append(ops, failedWrite(i, int64(200+i), 300, float64(i)/10))
	}
	code, out := check(t, ops...)
	if code != exitIllegal || !strings.Contains(out, "NOT LINEARIZABLE") {
		t.Fatalf("want not linearizable, got %d:\n%s", code, out)
	}
}

func TestManyWritesOfUnknownOutcomeThatNeverTookEffect(t *testing.T) {
	// A failover: 60 writes fail while the others go on; no revision is missing, so none of the
	// failed ones can have taken effect before the last read, and the check stays quick.
	var ops []Op
	for i := 0; i < 60; i++ {
		ops = append(ops, failedWrite(i, int64(10*i), int64(10*i+5), float64(i)/10))
	}
	for i := int64(1); i <= 20; i++ {
		ops = append(ops, write(60, 1000*i, 1000*i+10, 9.9, i), read(61, 1000*i+20, 1000*i+30, i, 9.9))
	}
	code, out := check(t, ops...)
	if code != exitOK || !strings.Contains(out, "60 unknown, 0 of them may have taken effect, 0 shown by a read to have") {
		t.Fatalf("want linearizable without the failed writes, got %d:\n%s", code, out)
	}
}

func TestAnUnknownWriteWhoseRevisionWasReadIsKept(t *testing.T) {
	var ops []Op
	for i := 0; i < 60; i++ {
		ops = append(ops, failedWrite(i, 10, 20, float64(i)/10))
	}
	// The write of 4.2 took effect: r1 was read with its rating, and r2 written on top.
	ops = append(ops, read(60, 30, 40, 1, 4.2), write(60, 50, 60, 9.9, 2), read(60, 70, 80, 2, 9.9))
	code, out := check(t, ops...)
	if code != exitOK || !strings.Contains(out, "60 unknown, 1 of them may have taken effect, 1 shown by a read to have") {
		t.Fatalf("want linearizable with the write of 4.2 kept, got %d:\n%s", code, out)
	}
}

func TestManyUnknownWritesThatReadsShowTookEffectAreCheckedQuickly(t *testing.T) {
	// Redis restarted again and again: 40 writes time out, yet each took effect and was read
	// at once, all while more writes of unknown outcome overlap them. Left returning at
	// infinity they keep Porcupine's search pending; bounded by the reads it takes milliseconds.
	var ops []Op
	for i := int64(1); i <= 40; i++ {
		r := float64(i) / 10
		ops = append(ops,
			failedWrite(int(i%6), 100*i, 100*i+5, r),
			read(10, 100*i+20, 100*i+30, i, r),
			read(11, 100*i+25, 100*i+35, i, r),
		)
	}
	path := writeHistory(t, ops)
	var out bytes.Buffer
	if code := run([]string{"-timeout", "5s", path}, &out, &out); code != exitOK ||
		!strings.Contains(out.String(), "40 unknown, 40 of them may have taken effect, 40 shown by a read to have") {
		t.Fatalf("want linearizable within 5 s, got %d:\n%s", code, out.String())
	}
}

func TestAnUnknownWriteShownToHaveTakenEffectCannotComeAfterTheReadOfIt(t *testing.T) {
	// The write of 4.2 timed out; a read returned it, then a later read returned r0 again.
	code, out := check(t,
		failedWrite(0, 10, 20, 4.2),
		read(1, 30, 40, 1, 4.2),
		read(2, 50, 60, 0, 5),
	)
	if code != exitIllegal || !strings.Contains(out, "NOT LINEARIZABLE") {
		t.Fatalf("want not linearizable, got %d:\n%s", code, out)
	}
}

func TestAnUnknownWriteInvokedAfterAnUnreadRevisionWasPassedIsDropped(t *testing.T) {
	// r1 was produced by a write that failed and nobody read it; r2 was then written. The
	// write of 3.3 began after r2 was returned, so it cannot have produced r1.
	code, out := check(t,
		failedWrite(0, 10, 20, 1.1),
		write(1, 30, 40, 2.2, 2),
		failedWrite(2, 50, 60, 3.3),
		read(3, 70, 80, 2, 2.2),
	)
	if code != exitOK || !strings.Contains(out, "2 unknown, 1 of them may have taken effect") {
		t.Fatalf("want linearizable with only the write of 1.1 kept, got %d:\n%s", code, out)
	}
}
