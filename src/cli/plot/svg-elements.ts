/** A few lines of SVG building: elements as strings, attributes escaped, coordinates rounded. */

export type Attrs = Readonly<Record<string, string | number | undefined>>;

/** `<tag a="1">children</tag>`, or self-closing without children; undefined attributes are left out. */
export function el(tag: string, attrs: Attrs, ...children: string[]): string {
  const a = Object.entries(attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(typeof v === 'number' ? num(v) : v)}"`)
    .join('');
  return children.length === 0 ? `<${tag}${a}/>` : `<${tag}${a}>${children.join('')}</${tag}>`;
}

/** Text content with the characters XML reserves escaped. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]!};`);
}

/** A coordinate: two decimals are finer than a pixel and keep the SVG small. */
export function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** SVG path data for a polyline through `points`. */
export function polylinePath(points: readonly (readonly [number, number])[]): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${num(x)} ${num(y)}`).join('');
}

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond';

/**
 * A data marker centred on (cx, cy) with about the same visual area for every shape, so no
 * series looks heavier than another.
 */
export function marker(shape: MarkerShape, cx: number, cy: number, r: number, attrs: Attrs): string {
  switch (shape) {
    case 'circle':
      return el('circle', { cx, cy, r, ...attrs });
    case 'square': {
      const h = r * 0.89;
      return el('rect', { x: cx - h, y: cy - h, width: 2 * h, height: 2 * h, ...attrs });
    }
    case 'triangle': {
      const s = r * 1.35;
      return el('path', { d: `${polylinePath([[cx, cy - s], [cx + s * 0.866, cy + s * 0.5], [cx - s * 0.866, cy + s * 0.5]])}Z`, ...attrs });
    }
    case 'diamond': {
      const s = r * 1.25;
      return el('path', { d: `${polylinePath([[cx, cy - s], [cx + s, cy], [cx, cy + s], [cx - s, cy]])}Z`, ...attrs });
    }
  }
}
