package localipc_test

import (
	"errors"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/require"
)

func init() {
	// A client that connects, says it is there, and waits to be killed.
	childWorkers["wait-to-be-killed"] = func(name string, flags localipc.Flags, _ bool) error {
		s, err := localipc.Dial(name, flags)
		if err != nil {
			return err
		}
		if _, err := s.Write([]byte{1}); err != nil {
			return err
		}
		// Read one byte of what the parent sends, slowly enough that the
		// parent's big Write is still going when it kills us.
		s.Read(make([]byte, 1))
		select {}
	}
}

func TestPeerKilledMidWrite(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	accepted := async(func() *localipc.Session { s, _ := srv.AcceptSession(); return s })
	cmd := execChild(t, "wait-to-be-killed", name)
	server := within(t, accepted, 10*time.Second, "accept")
	require.NotNil(t, server)
	defer server.Close()
	hello := make([]byte, 1)
	require.NoError(t, server.ReadFull(hello))

	big := make([]byte, 256<<20)
	wrote := async(func() error {
		n, err := server.Write(big)
		if err == nil {
			return errors.New("Write of 256 MiB to a killed peer succeeded")
		}
		if n >= len(big) {
			return errors.New("Write counted every byte although it failed")
		}
		return err
	})
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	expect(t, within(t, wrote, 30*time.Second, "Write"), localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "Write to a killed peer")
}
