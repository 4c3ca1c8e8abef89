package sock

import (
	"context"
	"testing"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
)

func TestWindowsNotSupported(t *testing.T) {
	_, _, err := Listen(`C:\x`, ListenConfig{Group: -1})
	assert.ErrorIs(t, err, ipcerr.ErrNotSupported)
	assert.ErrorIs(t, Unlink(`C:\x`, 1), ipcerr.ErrNotSupported)
	_, err = Accept(0)
	assert.ErrorIs(t, err, ipcerr.ErrNotSupported)
	_, err = Socket()
	assert.ErrorIs(t, err, ipcerr.ErrNotSupported)
	assert.ErrorIs(t, Connect(0, `C:\x`), ipcerr.ErrNotSupported)
	_, err = Dial(context.Background(), `C:\x`)
	assert.ErrorIs(t, err, ipcerr.ErrNotSupported)
	_, err = PeerCred(0)
	assert.ErrorIs(t, err, ipcerr.ErrNotSupported)
	_, err = Send(0, []byte("x"))
	assert.ErrorIs(t, err, ipcerr.ErrNotSupported)
}
