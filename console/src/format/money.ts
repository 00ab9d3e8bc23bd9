// Money arrives as decimal strings ("12345.67"); it is formatted as a string and never becomes a float.
// Intl formats only the integer part (as a BigInt), which is exact at any size.

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

export interface Decimal {
  negative: boolean;
  integer: bigint;
  fraction: string;
}

/** Parse a decimal string exactly; null when it is not one. */
export function parseDecimal(value: string): Decimal | null {
  const match = DECIMAL.exec(value.trim());
  if (!match) return null;
  return { negative: match[1] === "-", integer: BigInt(match[2] ?? "0"), fraction: match[3] ?? "" };
}

/** Round a decimal string to `digits` places, half away from zero, without floating point. */
export function roundDecimal(value: string, digits: number): Decimal | null {
  const parsed = parseDecimal(value);
  if (!parsed) return null;
  const padded = parsed.fraction.padEnd(digits + 1, "0");
  const scale = 10n ** BigInt(digits);
  let units = parsed.integer * scale + BigInt(padded.slice(0, digits) || "0");
  if (Number(padded[digits] ?? "0") >= 5) units += 1n;
  const integer = units / scale;
  const fraction = digits > 0 ? (units % scale).toString().padStart(digits, "0") : "";
  return { negative: parsed.negative && units !== 0n, integer, fraction };
}

function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

function decimalSeparator(locale: string): string {
  return new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
}

/** "12345.67", "CNY", "zh-CN" -> "¥12,345.67"; an unparsable value is shown as it came. */
export function formatMoney(value: string | null | undefined, currency: string | null | undefined, locale: string): string {
  if (value === null || value === undefined || value === "") return "—";
  const code = currency || "CNY";
  const digits = currencyDigits(code);
  const rounded = roundDecimal(value, digits);
  if (!rounded) return value;
  let parts: Intl.NumberFormatPart[];
  try {
    parts = new Intl.NumberFormat(locale, {
      style: "currency",
      currency: code,
      minimumFractionDigits: 0,
      maximumFractionDigits: 0,
    }).formatToParts(rounded.negative ? -rounded.integer : rounded.integer);
  } catch {
    return `${rounded.negative ? "-" : ""}${rounded.integer}${digits ? "." + rounded.fraction : ""} ${code}`;
  }
  if (rounded.negative && rounded.integer === 0n) {
    // -0.50: Intl drops the sign of a zero integer part; put it back before the number.
    const at = parts.findIndex((p) => p.type === "integer" || p.type === "currency");
    parts.splice(Math.max(0, at), 0, { type: "minusSign", value: "-" });
  }
  const last = parts.map((p) => p.type).lastIndexOf("integer");
  const separator = decimalSeparator(locale);
  return parts
    .map((part, index) => (index === last && digits > 0 ? part.value + separator + rounded.fraction : part.value))
    .join("");
}

/** A plain decimal (no currency) with grouping, e.g. an amount in a table or chart label. */
export function formatDecimal(value: string | null | undefined, locale: string, digits = 2): string {
  if (value === null || value === undefined || value === "") return "—";
  const rounded = roundDecimal(value, digits);
  if (!rounded) return value;
  const integer = new Intl.NumberFormat(locale).format(rounded.integer);
  const sign = rounded.negative ? "-" : "";
  return digits > 0 ? `${sign}${integer}${decimalSeparator(locale)}${rounded.fraction}` : `${sign}${integer}`;
}

/** Compare two decimal strings exactly (for sorting by amount). */
export function compareDecimal(a: string, b: string): number {
  const x = roundDecimal(a, 6);
  const y = roundDecimal(b, 6);
  if (!x || !y) return a.localeCompare(b);
  const ux = (x.integer * 1_000_000n + BigInt(x.fraction)) * (x.negative ? -1n : 1n);
  const uy = (y.integer * 1_000_000n + BigInt(y.fraction)) * (y.negative ? -1n : 1n);
  return ux < uy ? -1 : ux > uy ? 1 : 0;
}

/** Chart libraries plot numbers; this is the only place a money string becomes one, for drawing only. */
export function toChartNumber(value: string | null | undefined): number {
  const rounded = value ? roundDecimal(value, 2) : null;
  if (!rounded) return 0;
  return Number(`${rounded.negative ? "-" : ""}${rounded.integer}.${rounded.fraction}`);
}
