import { describe, expect, it } from "vitest";
import { compareDecimal, formatDecimal, formatMoney, roundDecimal, toChartNumber } from "./money";

describe("formatMoney", () => {
  it.each([
    ["12345.67", "CNY", "en", "CN¥12,345.67"],
    ["12345.67", "CNY", "zh-CN", "¥12,345.67"],
    ["0.00", "CNY", "en", "CN¥0.00"],
    ["-1234.5", "USD", "en", "-$1,234.50"],
    ["-0.50", "USD", "en", "-$0.50"],
    ["1000", "EUR", "de", "1.000,00 €"],
    ["1234.565", "CNY", "en", "CN¥1,234.57"],
    ["1234.564", "CNY", "en", "CN¥1,234.56"],
    ["99999999999999999999.99", "CNY", "en", "CN¥99,999,999,999,999,999,999.99"],
    ["0.1", "JPY", "en", "¥0"],
  ])("%s %s in %s is %s", (value, currency, locale, expected) => {
    expect(formatMoney(value, currency, locale).replace(/\u00a0/g, " ")).toBe(expected);
  });

  it("keeps precision a float would lose", () => {
    // 0.1 + 0.2 style: 9007199254740993.01 is not representable as a double.
    expect(formatMoney("9007199254740993.01", "USD", "en")).toBe("$9,007,199,254,740,993.01");
  });

  it("shows a dash for nothing and the raw value for garbage", () => {
    expect(formatMoney(null, "CNY", "en")).toBe("—");
    expect(formatMoney("n/a", "CNY", "en")).toBe("n/a");
  });
});

describe("decimal helpers", () => {
  it("rounds half away from zero", () => {
    expect(roundDecimal("2.345", 2)).toEqual({ negative: false, integer: 2n, fraction: "35" });
    expect(roundDecimal("-2.345", 2)).toEqual({ negative: true, integer: 2n, fraction: "35" });
    expect(roundDecimal("9.999", 2)).toEqual({ negative: false, integer: 10n, fraction: "00" });
  });

  it("formats plain decimals per locale", () => {
    expect(formatDecimal("1234567.891", "en")).toBe("1,234,567.89");
    expect(formatDecimal("1234567.891", "zh-CN")).toBe("1,234,567.89");
    expect(formatDecimal("1234567.891", "de")).toBe("1.234.567,89");
  });

  it("compares exactly", () => {
    expect(compareDecimal("10.00", "9.99")).toBe(1);
    expect(compareDecimal("0.10", "0.1")).toBe(0);
    expect(compareDecimal("-5", "1")).toBe(-1);
    expect(["3.5", "12", "0.25"].sort(compareDecimal)).toEqual(["0.25", "3.5", "12"]);
  });

  it("converts for charts only through the rounded string", () => {
    expect(toChartNumber("13277.77")).toBe(13277.77);
    expect(toChartNumber(null)).toBe(0);
  });
});
