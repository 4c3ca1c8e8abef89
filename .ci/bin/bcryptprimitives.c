/*
 * A stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks and every
 * Go >= 1.22 program loads at start for ProcessPrng. It exports that one
 * function and fills the buffer from RtlGenRandom (advapi32's
 * SystemFunction036), in chunks that fit its ULONG length. For running the
 * Windows tests under Wine only; see go_windows_amd64_exec.
 *
 * x86_64-w64-mingw32-gcc -O2 -shared -s -o bcryptprimitives.dll \
 *     bcryptprimitives.c -ladvapi32 -Wl,--export-all-symbols
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, chunk))
			return FALSE;
		data += chunk;
		len -= chunk;
	}
	return TRUE;
}
