#ifndef ESURAT_CQRENCODE_SHIM_H
#define ESURAT_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
