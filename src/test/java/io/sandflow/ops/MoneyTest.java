package io.sandflow.ops;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;

class MoneyTest {

    @ParameterizedTest
    @CsvSource({"0, $0.00", "0.002, $0.002", "0.00043, $0.00043", "0.004567, $0.0046", "0.01, $0.01",
            "0.009999, $0.01", "0.414, $0.41", "12.5, $12.50", "1234.567, $1234.57"})
    void amountsUnderACentShowAsSuch(String amount, String shown) {
        assertThat(Money.usd(new BigDecimal(amount))).isEqualTo(shown);
    }
}
