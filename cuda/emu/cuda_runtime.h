/* cuda_runtime.h for the emulation build: everything is in cuda_emu.h. */
#include "cuda_emu.h"
