import { csvCell } from "../domain/export/package.ts";

/** A table's rows as RFC 4180 CSV, with a header; arrays are joined with `;`, objects as JSON. */
export function toCsv(rows: readonly object[], columns: readonly string[]): string {
  const value = (row: object, column: string) => {
    const cell = (row as Record<string, unknown>)[column];
    return csvCell(Array.isArray(cell) ? cell.join("; ") : cell);
  };
  return `${[columns.join(","), ...rows.map((row) => columns.map((column) => value(row, column)).join(","))].join("\r\n")}\r\n`;
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Names the bar's colour: a ranking class, a severity, or `ok`/`late`. */
  readonly tone?: string;
  /** Written at the bar's end, after the value. */
  readonly note?: string;
}

const TONES: Readonly<Record<string, string>> = {
  A: "#1a7f37",
  B: "#bf8700",
  C: "#cf222e",
  ok: "#1a7f37",
  late: "#cf222e",
  high: "#cf222e",
  medium: "#bf8700",
  low: "#57606a",
};

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * A horizontal bar chart as a standalone SVG document (no script, no external reference): one
 * bar per item on a 0-`max` scale, coloured by tone, with a legend of the tones used.
 */
export function barChartSvg(title: string, bars: readonly Bar[], max = 100): string {
  const labelWidth = Math.min(360, Math.max(120, ...bars.map((bar) => bar.label.length * 7 + 16)));
  const plotWidth = 480;
  const rowHeight = 22;
  const top = 48;
  const tones = [...new Set(bars.map((bar) => bar.tone).filter((tone): tone is string => tone !== undefined))];
  const height = top + bars.length * rowHeight + 40 + (tones.length > 0 ? 24 : 0);
  const width = labelWidth + plotWidth + 160;
  const scale = (value: number) => Math.max(0, Math.min(1, value / max)) * plotWidth;
  const rows = bars.map((bar, index) => {
    const y = top + index * rowHeight;
    const fill = TONES[bar.tone ?? ""] ?? "#0969da";
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${scale(bar.value).toFixed(1)}" height="${rowHeight - 6}" fill="${fill}"><title>${escapeXml(`${bar.label}: ${bar.value}`)}</title></rect>`,
      `<text x="${labelWidth + scale(bar.value) + 6}" y="${y + 15}">${escapeXml(`${bar.value}${bar.note ? ` ${bar.note}` : ""}`)}</text>`,
    ].join("");
  });
  const axisY = top + bars.length * rowHeight + 4;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((share) => {
    const x = labelWidth + share * plotWidth;
    return `<line x1="${x}" y1="${top}" x2="${x}" y2="${axisY}" stroke="#d0d7de"/><text x="${x}" y="${axisY + 16}" text-anchor="middle">${Math.round(share * max)}</text>`;
  });
  const legend = tones.map(
    (tone, index) =>
      `<rect x="${labelWidth + index * 90}" y="${axisY + 28}" width="12" height="12" fill="${TONES[tone] ?? "#0969da"}"/><text x="${labelWidth + index * 90 + 18}" y="${axisY + 39}">${escapeXml(tone)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    ...ticks,
    ...rows,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
