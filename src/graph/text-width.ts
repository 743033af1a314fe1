// How wide a card's text is drawn, for sizing the card. Graphviz (in wasm) lays text out with
// Helvetica's metrics and places each line of an HTML label at its left end (`text-anchor=start`
// in the SVG) so that the Helvetica-wide text is centred; the SVG renderer then draws it in
// whatever font "Helvetica,sans-Serif" resolves to there. Liberation Sans and Arial have
// Helvetica's widths; DejaVu Sans (fontconfig's answer where those are not installed, as on many
// Linux machines) is up to a quarter wider (digits in bold), so a line whose Helvetica width
// nearly filled its card ran past the card's right edge (`memcached :11211` in rsvg).

/** Helvetica's advance widths for printable ASCII (space to ~), in 1/1000 em (Adobe's AFM). */
const HELVETICA: readonly number[] = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space ! " # $ % & ' ( ) * + , - . /
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0-9 : ; < = > ?
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ A-O
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P-Z [ \ ] ^ _
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` a-o
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p-z { | } ~
];

/** Helvetica-Bold is at most this much wider than Helvetica, glyph for glyph (ASCII). */
const BOLD = 1.15;

/** The widest a common fallback draws a line, against Helvetica's width (DejaVu Sans Bold digits: 1.25). */
export const FALLBACK_WIDER = 1.25;

/** Helvetica's width of `text` at `size` points; a character outside ASCII counts a whole em. */
export function helveticaWidth(text: string, size: number, bold = false): number {
  let units = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    units += HELVETICA[code - 32] ?? 1000;
  }
  return (units / 1000) * size * (bold ? BOLD : 1);
}

/**
 * The width a card's cells need for a line so that, drawn in a font up to FALLBACK_WIDER wider
 * than Helvetica from where Graphviz starts it, it ends inside the cell: it starts half its
 * Helvetica width left of the centre, so the cell must reach (FALLBACK_WIDER - 1/2) of that width
 * right of the centre, plus the cell's padding on each side.
 */
export function cellWidthFor(helvetica: number, padding: number): number {
  return Math.ceil((2 * FALLBACK_WIDER - 1) * helvetica + 2 * padding);
}

/** The same for a left-aligned line, which starts at the cell's left padding: its drawn width and both paddings. */
export function leftCellWidthFor(helvetica: number, padding: number): number {
  return Math.ceil(FALLBACK_WIDER * helvetica + 2 * padding);
}
