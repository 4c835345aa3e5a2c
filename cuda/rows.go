//go:build cuda

package cuda

import (
	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

// zeroCopyMax is the most bytes of row indices and values (UpdateRows) or
// of row indices and gathered rows (ReadRows) that a kernel reads or writes
// in mapped staging memory directly, over the host link, instead of a copy
// into device memory first: for a small sparse step the copy call and the
// copy engine's start cost more than the bytes. Larger ones go through
// device scratch at the pinned rate. The internal tests vary it.
var zeroCopyMax = 64 << 10

// zeroCopy reports whether n bytes go through mapped staging memory: at
// most zeroCopyMax, and one slot.
func zeroCopy(n int) bool { return n <= min(zeroCopyMax, slotBytes) }

// align16 rounds n up to 16 bytes, the alignment of the kernels' vector
// loads.
func align16(n int) int { return (n + 15) &^ 15 }

// UpdateRows sends the row indices and values (never a dense gradient) and
// queues one launch of update_rows. It returns before the device is done,
// having called nothing that waits (unless the staging ring has come round
// to a slot still in use).
func (b *Backend) UpdateRows(u device.RowUpdate) error {
	return b.call(append([]device.Buffer{u.Param}, u.State[:]...), func(xs []*buffer) error {
		if err := u.Validate(); err != nil {
			return err
		}
		dt := u.Param.DType()
		if err := b.caps.CheckRules(dt, true, u.Range); err != nil {
			return err
		}
		r := u.Range
		if len(u.Indices) == 0 || r.Width == 0 {
			return nil
		}
		vals := launch.HostBytes(u.Values)
		rowBytes := 8 * len(u.Indices)
		valOff := align16(rowBytes)
		var rows, values cu.DevicePtr
		var sl *slot
		if zeroCopy(valOff + len(vals)) {
			var err error
			if sl, err = b.stage.take(); err != nil {
				return err
			}
			buf := sl.bytes()
			launch.PutRows(buf, u.Indices)
			copy(buf[valOff:], vals)
			rows, values = sl.mem.dev, sl.mem.dev+cu.DevicePtr(valOff)
		} else {
			if err := b.put(&b.rows, launch.RowBytes(u.Indices)); err != nil {
				return err
			}
			if err := b.put(&b.vals, vals); err != nil {
				return err
			}
			rows, values = b.rows.ptr, b.vals.ptr
		}
		spec, _ := r.Rule.Spec()
		perRow := launch.Units(r.Width)
		if spec.Work == device.ByRow {
			perRow = 1 // a thread per row
		}
		units := perRow * len(u.Indices)
		real, _ := b.states(xs[1:])
		st := launch.StateOffsets(r)
		a := b.args
		a.reset()
		a.u64(uint64(xs[0].ptr), uint64(real.ptr), uint64(rows), uint64(values),
			uint64(r.Off), uint64(r.Width), uint64(perRow), uint64(units),
			uint64(r.Rule), uint64(spec.Work), st[0], st[1], r.Key)
		for _, c := range r.Coef {
			a.u64(launch.RealBits(dt, c))
		}
		if err := b.launch(b.rowsFn[dt], units, &xs[0].use, &real.use); err != nil {
			return err
		}
		if sl != nil {
			return b.stage.used(sl, b.stream)
		}
		return nil
	})
}

// put uploads data into sc on the compute stream, growing it first when
// too small: the next launch reads it, and the launches before have read
// the old contents by the time the copy runs.
func (b *Backend) put(sc *scratch, data []byte) error {
	if err := sc.grow(b, len(data)); err != nil {
		return err
	}
	return b.stage.upload(sc.ptr, data, b.stream)
}

// ReadRows gathers the rows on the device (gather_rows) and reads them
// back: one launch and one wait for a small gather, which reads its
// indices from and writes its rows to mapped staging memory; through
// device scratch and pipelined copies for a large one.
func (b *Backend) ReadRows(dst any, src device.Buffer, off, width int, rows []int64) error {
	return b.call([]device.Buffer{src}, func(xs []*buffer) error {
		if src == nil {
			return device.ErrForeignBuffer
		}
		if err := device.CheckRows(dst, src, off, width, rows); err != nil {
			return err
		}
		host := launch.HostBytes(dst)
		if len(host) == 0 {
			return nil
		}
		total := len(rows) * width
		rowBytes := 8 * len(rows)
		outOff := align16(rowBytes)
		a := b.args
		if zeroCopy(outOff + len(host)) {
			sl, err := b.stage.take()
			if err != nil {
				return err
			}
			launch.PutRows(sl.bytes(), rows)
			a.reset()
			a.u64(uint64(sl.mem.dev)+uint64(outOff), uint64(xs[0].ptr), uint64(sl.mem.dev), uint64(off), uint64(width), uint64(total))
			if err := b.launch(b.gather[src.DType()], total, &xs[0].use); err != nil {
				return err
			}
			if err := b.stage.used(sl, b.stream); err != nil {
				return err
			}
			// The event follows everything queued on the compute stream,
			// which waited for every copy (launch calls beforeCompute).
			if err := sl.done.Synchronize(); err != nil {
				return wrap("cuEventSynchronize", err)
			}
			b.finished()
			copy(host, sl.bytes()[outOff:])
			return nil
		}
		if err := b.put(&b.gatherRows, launch.RowBytes(rows)); err != nil {
			return err
		}
		if err := b.gathered.grow(b, len(host)); err != nil {
			return err
		}
		a.reset()
		a.u64(uint64(b.gathered.ptr), uint64(xs[0].ptr), uint64(b.gatherRows.ptr), uint64(off), uint64(width), uint64(total))
		if err := b.launch(b.gather[src.DType()], total, &xs[0].use); err != nil {
			return err
		}
		if err := b.stage.download(host, b.gathered.ptr, b.stream); err != nil {
			return err
		}
		b.finished()
		return nil
	})
}
