package checkpoint

import (
	"bytes"
	"reflect"
	"testing"
)

// TestOldFilesStillLoad: files of the codec of commit 4255f35 (one param
// group per tensor) are read by Read, and Read's files by the old decoder:
// the layout, the canonical header and the checksum are the same.
func TestOldFilesStillLoad(t *testing.T) {
	st := trainedState(t)
	meta := map[string]string{"trainer.epoch": "1", "note": "\"quoted\" ✓"}
	old, err := oldEncodeCheckpoint(st, meta)
	if err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := read(old)
	if err != nil {
		t.Fatalf("an old file: %v", err)
	}
	if !reflect.DeepEqual(got, st) || !reflect.DeepEqual(gotMeta, meta) {
		t.Errorf("an old file reads as\n%+v %v\nwant\n%+v %v", got, gotMeta, st, meta)
	}
	var buf bytes.Buffer
	if err := Write(&buf, st, meta); err != nil {
		t.Fatal(err)
	}
	back, backMeta, err := oldDecodeCheckpoint(buf.Bytes())
	if err != nil {
		t.Fatalf("the old decoder refuses a new file: %v", err)
	}
	if !reflect.DeepEqual(back, st) || !reflect.DeepEqual(backMeta, meta) {
		t.Errorf("the old decoder reads a new file as\n%+v %v\nwant\n%+v %v", back, backMeta, st, meta)
	}
}
