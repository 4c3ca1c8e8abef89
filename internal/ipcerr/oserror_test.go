package ipcerr

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOSErrorNil(t *testing.T) {
	assert.NoError(t, OSError("connect", "/x", nil))
}

func TestOSErrorNotAnErrno(t *testing.T) {
	cause := errors.New("odd failure")
	err := OSError("bind", "/x", cause)
	assert.EqualError(t, err, "localipc: bind /x: odd failure")
	assert.ErrorIs(t, err, cause)
	assert.Equal(t, -35, Status(err))
	for _, s := range sentinelCases {
		assert.NotErrorIs(t, err, s.err, s.name)
	}
}

func TestOSErrorWithoutPath(t *testing.T) {
	err := OSError("getsockopt", "", errors.New("bad"))
	assert.EqualError(t, err, "localipc: getsockopt: bad")
}

func TestOSErrorKeepsSyscallError(t *testing.T) {
	cause := errors.New("bad")
	var se *os.SyscallError
	require.ErrorAs(t, OSError("listen", "/x", cause), &se)
	assert.Equal(t, "listen", se.Syscall)
	assert.Same(t, cause, se.Err)
}
