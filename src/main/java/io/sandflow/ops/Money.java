package io.sandflow.ops;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Dollar amounts as people read them: cents from a cent up, and amounts under a cent as such ($0.002, not $0.00). */
public final class Money {

    private static final BigDecimal CENT = new BigDecimal("0.01");

    private Money() {
    }

    public static String usd(BigDecimal amount) {
        if (amount == null || amount.signum() == 0) {
            return "$0.00";
        }
        BigDecimal abs = amount.abs();
        if (abs.compareTo(CENT) >= 0) {
            return "$" + amount.setScale(2, RoundingMode.HALF_UP).toPlainString();
        }
        // Two significant digits are plenty for what a fraction of a cent is
        BigDecimal small = amount.round(new java.math.MathContext(2, RoundingMode.HALF_UP)).stripTrailingZeros();
        return "$" + small.toPlainString();
    }
}
