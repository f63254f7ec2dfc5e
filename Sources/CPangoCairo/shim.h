#ifndef ESURAT_CPANGOCAIRO_SHIM_H
#define ESURAT_CPANGOCAIRO_SHIM_H

#include <cairo.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>
#include <fontconfig/fontconfig.h>

/* Casts and macros Swift cannot import, as static inline functions. */
static inline int CPangoCairo_scale(void) { return PANGO_SCALE; }

/* Gives the font map a private fontconfig that knows only the installation's pinned font
 * files, so the letter looks the same on every server whatever fonts the host has. */
static inline void CPangoCairo_setFontConfig(PangoFontMap *map, FcConfig *config) {
    pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(map), config);
}

static inline void CPangoCairo_unref(void *object) { g_object_unref(object); }

#endif
