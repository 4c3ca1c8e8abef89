package sock

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Send to a closed peer is EPIPE and raises no SIGPIPE. The signal is
// watched through signal.Notify, which also receives it when plain write(2)
// raises it: that shows the watch would see one.
func TestSendClosedPeerNoSIGPIPE(t *testing.T) {
	checkFDs(t)
	client, server := pair(t)
	require.NoError(t, unix.Close(server))

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGPIPE)
	defer signal.Stop(sigs)

	n, err := Send(client, []byte("x"))
	assert.Equal(t, unix.EPIPE, err)
	assert.Zero(t, n)
	assert.Equal(t, -301, ipcerr.Status(ipcerr.OSError("send", "", err)))
	select {
	case <-sigs:
		t.Fatal("Send raised SIGPIPE")
	case <-time.After(100 * time.Millisecond):
	}

	_, err = unix.Write(client, []byte("x"))
	assert.Equal(t, unix.EPIPE, err)
	select {
	case <-sigs:
	case <-time.After(5 * time.Second):
		t.Fatal("write(2) raised no SIGPIPE: the watch is blind")
	}
}

// Send reports the part the kernel took, and EAGAIN once the buffers are full.
func TestSendPartial(t *testing.T) {
	checkFDs(t)
	client, server := pair(t)
	p := make([]byte, 1<<20)
	total := 0
	for range 1000 {
		n, err := Send(client, p)
		if err == unix.EAGAIN {
			break
		}
		require.NoError(t, err)
		require.Positive(t, n)
		total += n
	}
	assert.Positive(t, total)
	_, err := Send(client, p)
	assert.Equal(t, unix.EAGAIN, err)

	// Draining shows the count was the truth: exactly total bytes arrive.
	assert.Len(t, readT(t, server, total), total)
	var b [1]byte
	_, err = unix.Read(server, b[:])
	assert.Equal(t, unix.EAGAIN, err)
}
