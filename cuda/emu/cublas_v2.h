/* cublas_v2.h for the emulation build: everything is in cuda_emu.h. */
#include "cuda_emu.h"
