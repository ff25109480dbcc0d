package dev.tikhon.report;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FormatTest {
    @Test
    void numbersAreShortButHonest() {
        assertThat(Format.number(0.893417)).isEqualTo("0.8934");
        assertThat(Format.number(12.3456)).isEqualTo("12.35");
        assertThat(Format.number(10.0)).isEqualTo("10");
        assertThat(Format.number(-3)).isEqualTo("-3");
        assertThat(Format.number(0.5)).isEqualTo("0.5");
        assertThat(Format.number(1.23456e-7)).isEqualTo("1.235e-07");
        assertThat(Format.number(1.5e12)).isEqualTo("1500000000000");
        assertThat(Format.number(1.25e20)).isEqualTo("1.250e+20");
        assertThat(Format.number(Double.NaN)).isEqualTo("NaN");
        assertThat(Format.number(Double.NEGATIVE_INFINITY)).isEqualTo("-Infinity");
    }

    @Test
    void onlyFloatingPointValuesAreRounded() {
        assertThat(Format.value(123456789L)).isEqualTo("123456789");
        assertThat(Format.value(0.123456f)).isEqualTo("0.1235");
        assertThat(Format.value("text")).isEqualTo("text");
        assertThat(Format.value(null)).isEqualTo("null");
    }

    @Test
    void pagesShowADashForWhatWasNotMeasured() {
        assertThat(Format.cell(null)).isEqualTo("—");
        assertThat(Format.cell(Double.NaN)).isEqualTo("—");
        assertThat(Format.cell("NaN")).isEqualTo("—");
        assertThat(Format.cell(Double.POSITIVE_INFINITY)).isEqualTo("∞");
        assertThat(Format.cell(0.893417)).isEqualTo("0.8934");
        assertThat(Format.cell(42L)).isEqualTo("42");
    }
}
