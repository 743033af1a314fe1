import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

// Where rsvg-convert really draws a picture's text: each node's box from Graphviz's SVG, and each
// of its text lines measured by rendering that line alone with rsvg-convert (in the fonts a
// fontconfig file gives it) and finding its rightmost inked pixel in the PNG.

export interface SvgNode {
  readonly title: string;
  /** The box's left and right edges, in the SVG's user units. */
  readonly left: number;
  readonly right: number;
  readonly texts: ReadonlyArray<{ readonly x: number; readonly size: number; readonly bold: boolean; readonly text: string }>;
}

const unescape = (text: string): string => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#45;/g, '-').replace(/&amp;/g, '&');

/** Every node of a Graphviz SVG whose box is a path or polygon, with its left-anchored text lines. */
export function svgNodes(svg: string): SvgNode[] {
  return [...svg.matchAll(/<g id="node\d+" class="node">\s*<title>([^<]*)<\/title>([\s\S]*?)<\/g>/g)].flatMap(([, title = '', body = '']) => {
    const shape = /<(?:path|polygon)[^>]* (?:d|points)="([^"]+)"/.exec(body)?.[1] ?? '';
    const xs = [...shape.matchAll(/(-?[\d.]+),-?[\d.]+/g)].map((match) => Number(match[1]));
    if (xs.length === 0) return [];
    const texts = [...body.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)].flatMap(([, attributes = '', text = '']) => {
      if (!attributes.includes('text-anchor="start"')) return [];
      return [{ x: Number(/ x="([^"]+)"/.exec(attributes)?.[1]), size: Number(/font-size="([^"]+)"/.exec(attributes)?.[1]), bold: attributes.includes('font-weight="bold"'), text: unescape(text) }];
    });
    return [{ title: unescape(title), left: Math.min(...xs), right: Math.max(...xs), texts }];
  });
}

/** A fontconfig file under `dir` that knows only `fontFiles`: every family resolves to them. */
export function fontconfigWith(dir: string, fontFiles: readonly string[]): string {
  const fonts = join(dir, 'fonts');
  mkdirSync(fonts, { recursive: true });
  for (const file of fontFiles) symlinkSync(file, join(fonts, file.split('/').pop() ?? 'font.ttf'));
  const config = join(dir, 'fonts.conf');
  writeFileSync(config, `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>${fonts}</dir><cachedir>${join(dir, 'cache')}</cachedir></fontconfig>\n`);
  return config;
}

const ZOOM = 4;

/** How far right of its start rsvg-convert inks `text` (font-family as Graphviz writes it), in user units. */
export function inkWidth(text: string, size: number, bold: boolean, fontconfig?: string): number {
  const width = Math.ceil(text.length * size * 1.5) + 20;
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${size * 3}"><text xml:space="preserve" text-anchor="start" x="0" y="${size * 2}" font-family="Helvetica,sans-Serif"${bold ? ' font-weight="bold"' : ''} font-size="${size}">${escaped}</text></svg>`;
  const png = execFileSync('rsvg-convert', ['-z', String(ZOOM)], { input: svg, env: { ...process.env, ...(fontconfig ? { FONTCONFIG_FILE: fontconfig } : {}) } });
  return (rightmostInk(png) + 1) / ZOOM;
}

/** The rightmost column with any opaque pixel of an 8-bit RGBA PNG (what rsvg-convert writes). */
function rightmostInk(png: Buffer): number {
  let offset = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString('latin1');
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 6 || body[12] !== 0) throw new Error('expected a non-interlaced 8-bit RGBA PNG');
    }
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4;
  let previous = Buffer.alloc(stride);
  let rightmost = -1;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const left = i >= 4 ? (line[i - 4] as number) : 0;
      const up = previous[i] as number;
      const upLeft = i >= 4 ? (previous[i - 4] as number) : 0;
      const predictor = filter === 1 ? left : filter === 2 ? up : filter === 3 ? (left + up) >> 1 : filter === 4 ? paeth(left, up, upLeft) : 0;
      line[i] = ((line[i] as number) + predictor) & 0xff;
    }
    for (let x = width - 1; x > rightmost; x--) {
      if ((line[x * 4 + 3] as number) > 0) {
        rightmost = x;
        break;
      }
    }
    previous = line;
  }
  return rightmost;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
