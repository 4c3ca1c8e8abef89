package winapi

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

func TestPeekNamedPipe(t *testing.T) {
	var r, w windows.Handle
	require.NoError(t, windows.CreatePipe(&r, &w, nil, 0))
	defer windows.CloseHandle(r)
	n, err := PeekNamedPipe(r)
	require.NoError(t, err)
	assert.Zero(t, n, "empty")
	var done uint32
	require.NoError(t, windows.WriteFile(w, []byte("abc"), &done, nil))
	n, err = PeekNamedPipe(r)
	require.NoError(t, err)
	assert.EqualValues(t, 3, n, "what was written, not consumed")
	n, err = PeekNamedPipe(r)
	require.NoError(t, err)
	assert.EqualValues(t, 3, n, "a second look finds it still")
	windows.CloseHandle(w)
	// Windows keeps the bytes for the reader after the writer left.
	n, err = PeekNamedPipe(r)
	if err == nil {
		assert.EqualValues(t, 3, n)
	} else {
		assert.ErrorIs(t, err, windows.ERROR_BROKEN_PIPE)
	}
}

func TestFileHandleCount(t *testing.T) {
	if v := WineVersion(); v != "" {
		t.Skipf("Wine %s: the handle-table query crashes its wineserver in about one run in four", v)
	}
	before, err := FileHandleCount()
	require.NoError(t, err)
	var r, w windows.Handle
	require.NoError(t, windows.CreatePipe(&r, &w, nil, 0))
	ev, err := windows.CreateEvent(nil, 0, 0, nil) // not a file
	require.NoError(t, err)
	after, err := FileHandleCount()
	require.NoError(t, err)
	windows.CloseHandle(r)
	windows.CloseHandle(w)
	windows.CloseHandle(ev)
	assert.Equal(t, before+2, after, "a pipe's two ends more, not the event")
	again, err := FileHandleCount()
	require.NoError(t, err)
	assert.Equal(t, before, again, "closed again")
}

func TestWineVersion(t *testing.T) {
	// Either answer is right; it must not change between calls.
	assert.Equal(t, WineVersion(), WineVersion())
	t.Logf("Wine: %q", WineVersion())
}

func TestStructSizes(t *testing.T) {
	// SYSTEM_HANDLE_TABLE_ENTRY_INFO: 24 bytes on 64-bit Windows, 16 on 32-bit.
	want := uintptr(16)
	if unsafe.Sizeof(uintptr(0)) == 8 {
		want = 24
	}
	assert.Equal(t, want, unsafe.Sizeof(systemHandleEntry{}))
	// PROCESS_MEMORY_COUNTERS: two DWORDs and eight SIZE_Ts, 72 bytes on
	// 64-bit Windows, 40 on 32-bit.
	want = 40
	if unsafe.Sizeof(uintptr(0)) == 8 {
		want = 72
	}
	assert.Equal(t, want, unsafe.Sizeof(processMemoryCounters{}))
}

func TestPeakWorkingSet(t *testing.T) {
	peak, err := PeakWorkingSet(windows.CurrentProcess())
	require.NoError(t, err)
	// A Go test binary has touched megabytes by now.
	assert.Greater(t, peak, uint64(1<<20))
}
