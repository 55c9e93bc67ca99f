// Package jsonl reads the JSON Lines files invitectl writes (plans and
// results journals) fast: Decode decodes their lines on every core and hands
// them back in order, and Scanner decodes the objects invitectl itself
// writes without reflection, leaving any other line to encoding/json, which
// then decides exactly as it always has.
package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// chunkSize is how much Decode reads at a time: big enough that handing a
// chunk to a goroutine costs little against decoding its lines, small
// enough that the chunks in flight stay a few megabytes.
const chunkSize = 1 << 20

// LineTooLongError is a line longer than Decode's maxLine.
type LineTooLongError struct{ Line int }

func (e *LineTooLongError) Error() string { return fmt.Sprintf("line %d is too long", e.Line) }

// Decode reads r to its end as lines, split at '\n' (which is removed), and
// decodes each one with a decode function made by newDecode, on as many
// goroutines as there are cores, each with its own function (which may keep
// state, such as interned strings). fold then gets every line, numbered
// from first, with its value and decode's error, in order and on the
// caller's goroutine; the line and the value are valid only during the call.
//
// A last line without a newline is not decoded but returned as tail (nil
// when r ends with a newline). The error of r, a *LineTooLongError for a
// line longer than maxLine (when positive), or fold's error stops the
// reading and is returned.
func Decode[T any](r io.Reader, first, maxLine int, newDecode func() func(line []byte, v *T) error,
	fold func(n int, line []byte, v *T, err error) error) (tail []byte, err error) {
	workers := max(1, runtime.GOMAXPROCS(0))
	d := &decoding[T]{
		free:  make(chan *chunk[T], 2*workers+2),
		work:  make(chan *chunk[T], 2*workers+2),
		order: make(chan *chunk[T], 2*workers+2),
		stop:  make(chan struct{}),
	}
	for range cap(d.free) {
		d.free <- &chunk[T]{}
	}
	var wg sync.WaitGroup
	wg.Go(func() { d.read(r, first, maxLine) })
	for range workers {
		wg.Go(func() {
			decode := newDecode()
			for c := range d.work {
				c.decode(decode)
			}
		})
	}
	defer func() {
		close(d.stop)
		wg.Wait()
	}()
	n := first
	for c := range d.order {
		<-c.done
		for i, line := range c.lines {
			if err := fold(n, line, &c.vals[i], c.errs[i]); err != nil {
				return nil, err
			}
			n++
		}
		if c.err != nil || c.eof {
			return c.tail, c.err
		}
		d.free <- c
	}
	return nil, errors.New("jsonl: reading stopped") // not reached: the last chunk says eof or err
}

// decoding is one Decode's goroutines and the chunks they pass around:
// free ones go to the reader, filled ones to the workers and, in file
// order, to the caller, which returns them to free.
type decoding[T any] struct {
	free, work, order chan *chunk[T]
	stop              chan struct{}
}

// chunk is a run of whole lines and what decoding them gave.
type chunk[T any] struct {
	buf   []byte
	lines [][]byte
	vals  []T
	errs  []error
	done  chan struct{}
	// Set on the last chunk: the bytes after the last newline, and the
	// reader's error.
	tail []byte
	eof  bool
	err  error
}

// read fills chunks with whole lines, carrying a line cut by the end of a
// chunk over to the next, and sends them to the workers and, in order, to
// the caller. The last chunk carries the tail and the error; a line longer
// than maxLine ends its chunk before it, with the error.
func (d *decoding[T]) read(r io.Reader, first, maxLine int) {
	defer close(d.work)
	var carry []byte
	line := first // the number of carry's line
	for {
		var c *chunk[T]
		select {
		case c = <-d.free:
		case <-d.stop:
			return
		}
		c.buf = append(c.buf[:0], carry...)
		c.lines, c.done = c.lines[:0], make(chan struct{})
		c.tail, c.eof, c.err = nil, false, nil
		cut := -1 // the end of the chunk's last whole line
		for cut < 0 && !c.eof && c.err == nil {
			if len(c.buf) == cap(c.buf) {
				c.buf = append(c.buf, make([]byte, max(chunkSize, cap(c.buf)))...)[:len(c.buf)]
			}
			start := len(c.buf)
			m, err := r.Read(c.buf[start:cap(c.buf)])
			c.buf = c.buf[:start+m]
			switch {
			case errors.Is(err, io.EOF):
				c.eof = true
			case err != nil:
				c.err = err
			}
			// carry has no newline: the chunk's last one is in what was read.
			if i := bytes.LastIndexByte(c.buf[start:], '\n'); i >= 0 {
				cut = start + i + 1
			} else if maxLine > 0 && len(c.buf) > maxLine {
				break // one line, too long: the error is set below
			}
		}
		cut = max(cut, 0)
		carry = append(carry[:0], c.buf[cut:]...)
		c.buf = c.buf[:cut]
		if maxLine > 0 && len(c.buf) > maxLine {
			if n, at := longLine(c.buf, maxLine); at >= 0 {
				c.buf, c.err = c.buf[:at], &LineTooLongError{Line: line + n}
			}
		}
		if maxLine > 0 && len(carry) > maxLine && c.err == nil {
			c.err = &LineTooLongError{Line: line + bytes.Count(c.buf, []byte{'\n'})}
		}
		line += bytes.Count(c.buf, []byte{'\n'})
		if c.eof || c.err != nil {
			c.tail = carry
		}
		d.order <- c // never blocks: it has room for every chunk
		d.work <- c  // the workers drain work until it is closed
		if c.eof || c.err != nil {
			close(d.order)
			return
		}
	}
}

// longLine finds the first line of buf longer than maxLine: how many lines
// come before it, and where it starts (-1 when there is none).
func longLine(buf []byte, maxLine int) (n, at int) {
	for at = 0; at < len(buf); n++ {
		i := bytes.IndexByte(buf[at:], '\n')
		if i > maxLine {
			return n, at
		}
		at += i + 1
	}
	return n, -1
}

// decode splits the chunk into lines and decodes them.
func (c *chunk[T]) decode(decode func([]byte, *T) error) {
	defer close(c.done)
	for buf := c.buf; len(buf) > 0; {
		i := bytes.IndexByte(buf, '\n')
		c.lines = append(c.lines, buf[:i])
		buf = buf[i+1:]
	}
	n := len(c.lines)
	if cap(c.vals) < n {
		c.vals, c.errs = make([]T, n), make([]error, n)
	}
	c.vals, c.errs = c.vals[:n], c.errs[:n]
	var zero T
	for i, line := range c.lines {
		c.vals[i] = zero
		c.errs[i] = decode(line, &c.vals[i])
	}
}
