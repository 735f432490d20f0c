package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.server.pipeline.LimitSettings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code regmirror.server.limits}: the defaults of reference.conf, and a message naming the setting for each bad value. */
class LimitSettingsTest {

    private static LimitSettings limits(Map<String, Object> overrides) {
        return ServerSettings.from(ConfigFactory.parseMap(overrides)
                .withFallback(ConfigFactory.defaultReferenceUnresolved()).resolve()).limits();
    }

    @Test
    void defaults() {
        assertEquals(new LimitSettings(8192, 16384, Duration.ofSeconds(10), 256, 0, 200), limits(Map.of()));
    }

    @Test
    void sizesAreHoconSizesAndTheRateMayBeAFraction() {
        LimitSettings limits = limits(Map.of("regmirror.server.limits.max-request-line", "2K",
                "regmirror.server.limits.max-header-size", "1M", "regmirror.server.limits.requests-per-second", 0.5));
        assertEquals(2048, limits.maxRequestLine());
        assertEquals(1024 * 1024, limits.maxHeaderSize());
        assertEquals(0.5, limits.requestsPerSecond());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "max-request-line|100|regmirror.server.limits.max-request-line: must be 1K to 1M, was 100 bytes",
            "max-header-size|2M|regmirror.server.limits.max-header-size: must be 1K to 1M, was 2097152 bytes",
            "header-timeout|0s|regmirror.server.limits.header-timeout: must be positive, was PT0S",
            "connections-per-client|-1|regmirror.server.limits.connections-per-client: must be 0 (no cap) or more, was -1",
            "requests-per-second|0.001|regmirror.server.limits.requests-per-second: must be 0 (no limit) or 0.01 to 1000000, was 0.001",
            "requests-per-second|-5|regmirror.server.limits.requests-per-second: must be 0 (no limit) or 0.01 to 1000000, was -5",
            "request-burst|0|regmirror.server.limits.request-burst: must be 1 to 1000000, was 0",
    })
    void aBadValueNamesItsSetting(String key, String value, String message) {
        SettingsException e = assertThrows(SettingsException.class,
                () -> limits(Map.of("regmirror.server.limits." + key, value)));
        assertEquals(message, e.getMessage());
    }

    @Test
    void aValueOfTheWrongTypeNamesItsSettingToo() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> limits(Map.of("regmirror.server.limits.max-header-size", "lots")));
        assertTrue(e.getMessage().startsWith("invalid configuration: ")
                && e.getMessage().contains("regmirror.server.limits.max-header-size"), e.getMessage());
    }
}
