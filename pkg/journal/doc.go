// Package journal is the results journal of an apply run: the write-ahead
// log that makes a run resumable. Package report renders it.
//
// # The file
//
// An append-only JSONL file, mode 0600: a Header on line 1, then one Record
// per line. It is the checkpoint an interrupted run resumes from:
//
//   - before every mutating call, the executor appends an intent record
//     (Attempt = the call's number) and waits until it is durable;
//   - every plan item ends with exactly one outcome record (none items get
//     skipped with their reason), which may be queued without waiting;
//   - a run brackets its records with run records: start, then interrupted
//     or end (with RunCounts);
//   - resume --retry-in-doubt may append a newer outcome for an item: the
//     last outcome of an item wins.
//
// Items are keyed by ItemKey: the lower-case email for send, cancel and
// pruned items, the input row for the none items (which may repeat an
// address or carry none). State.Pending holds the intents with no outcome
// after them: calls whose fate the executor must reconcile before acting.
//
// A crash can leave at most one torn line, at the end (no newline, or not
// valid JSON): Open truncates it (it was never acknowledged as durable),
// Read and Scan ignore it. A bad line anywhere else is an error naming the
// file and line.
//
// The journal is held under an exclusive flock by the process appending to
// it, so a second apply or resume on it fails with ErrLocked, and a killed
// process leaves no stale lock. Readers (invitectl report) do not lock.
//
// # Group commit
//
// Append and AppendAsync only queue encoded lines; one writer goroutine
// takes everything queued, writes it with one write and one fsync, then
// releases every Append waiting on that batch. While one fsync runs the next
// batch fills, so with many workers the cost is a few fsyncs per hundred
// records, and one worker pays one fsync per record. After a failed write or
// fsync nothing more is written (the file may end in a partial line, and a
// failed fsync cannot be retried safely): every Append and Close return the
// error, and resume truncates the torn tail.
//
// # Memory
//
// Read folds records into a State as it goes: it keeps the last outcome of
// each item in a compact form (see State: about 110 bytes and its strings,
// 88 MiB for 500,000 outcomes), never the whole list of records.
package journal
