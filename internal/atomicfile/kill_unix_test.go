//go:build unix

package atomicfile

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperWriter is not a test: TestKilledWriter runs it in a process of
// its own, which starts a write, says so, and waits to be killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv("ATOMICFILE_HELPER_PATH")
	if path == "" {
		t.Skip("a helper process of TestKilledWriter")
	}
	err := Write(path, func(w io.Writer) error {
		if _, err := w.Write([]byte("half of a new file")); err != nil {
			return err
		}
		os.Stdout.WriteString("writing\n")
		// Killed here. A sleep, not select{}: with every goroutine blocked
		// the runtime may end the process itself ("all goroutines are
		// asleep"), which drops the lock before the test has looked.
		time.Sleep(10 * time.Minute)
		return nil
	})
	t.Fatal(err)
}

// TestKilledWriter: a process killed (SIGKILL) in the middle of a write
// leaves the old file as it was; while it lives, its temporary is kept by
// others' writes; once it is dead, the next write or Clean removes it.
func TestKilledWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.safetensors")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_HELPER_PATH="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "writing" {
		cmd.Process.Kill() // the test fails anyway: how it ends matters not
		cmd.Wait()
		t.Fatalf("helper said %q (%v)", line, err)
	}
	live := temps(t, path)
	if len(live) != 1 {
		t.Fatalf("temporaries while the helper writes: %v", live)
	}
	// Another write meanwhile keeps the helper's temporary.
	if err := WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got := temps(t, path); len(got) != 1 || got[0] != live[0] {
		t.Errorf("a write removed a temporary in use: %v, was %v", got, live)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Errorf("the helper was not killed")
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new" {
		t.Errorf("after the kill the file holds %q (%v)", b, err)
	}
	if err := Clean(path); err != nil {
		t.Fatal(err)
	}
	if got := temps(t, path); len(got) != 0 {
		t.Errorf("temporaries of a killed write left after Clean: %v", got)
	}
}
