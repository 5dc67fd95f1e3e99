import { existsSync } from 'node:fs';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { MpcdError } from '../../core/errors.js';

export interface RenderedPng {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  /**
   * Whether the renderer found a font to draw text with. resvg silently leaves text out when it
   * has none (a bare CI container has no fonts), so callers can warn instead of shipping an
   * unlabelled plot without a word.
   */
  readonly textDrawn: boolean;
}

/**
 * Renders an SVG to PNG at the SVG's own size with resvg. Text uses `fontFile` when given,
 * else the system's fonts (fontconfig directories on Linux: on Debian `fonts-dejavu-core`).
 */
export function renderPng(svg: string, fontFile?: string): RenderedPng {
  const font = fontOptions(fontFile);
  const image = new Resvg(svg, { font, background: '#ffffff' }).render();
  return { png: image.asPng(), width: image.width, height: image.height, textDrawn: canDrawText(font) };
}

function fontOptions(fontFile: string | undefined): NonNullable<ResvgRenderOptions['font']> {
  if (fontFile === undefined) return { loadSystemFonts: true };
  if (!existsSync(fontFile)) {
    throw new MpcdError('PLOT_FONT', `font file ${fontFile} does not exist; pass a .ttf or .otf file to --font, or leave --font out to use the system's fonts`);
  }
  // With only this file loaded, resvg falls back to it for every font-family the SVG asks for.
  return { loadSystemFonts: false, fontFiles: [fontFile] };
}

/** Renders one word with the same font setup and looks for ink: the only reliable way to ask resvg. */
function canDrawText(font: NonNullable<ResvgRenderOptions['font']>): boolean {
  const probe =
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="24">' +
    '<text x="2" y="18" font-size="16" font-family="sans-serif" fill="#000">Ag</text></svg>';
  const pixels = new Resvg(probe, { font, background: '#ffffff' }).render().pixels;
  for (let i = 0; i < pixels.length; i += 4) if ((pixels[i] ?? 255) < 128) return true;
  return false;
}
