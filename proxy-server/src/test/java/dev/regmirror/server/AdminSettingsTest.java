package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.net.AllowedClients;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdminSettingsTest {

    private static Config config(Map<String, Object> admin) {
        return ConfigFactory.parseMap(admin).withFallback(ConfigFactory.defaultReferenceUnresolved()).resolve();
    }

    @Test
    void defaultsToLoopbackPort5050WithoutAToken() {
        AdminSettings settings = AdminSettings.from(config(Map.of()));
        assertEquals(new AdminSettings(new ListenerSettings("admin", "127.0.0.1", 5050, Optional.empty(),
                AllowedClients.ANY), Optional.empty()), settings);
    }

    @Test
    void aNonLoopbackAddressWithoutATokenIsRefused() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> AdminSettings.from(config(Map.of("regmirror.admin.host", "0.0.0.0"))));
        assertTrue(e.getMessage().startsWith("regmirror.admin.token: required when the admin API listens on 0.0.0.0"),
                e.getMessage());
    }

    @Test
    void aNonLoopbackAddressWithATokenIsAllowedAndTheTokenNeverPrinted() {
        AdminSettings settings = AdminSettings.from(config(Map.of("regmirror.admin.host", "0.0.0.0",
                "regmirror.admin.token", "s3cret")));
        assertEquals(Optional.of("s3cret"), settings.token());
        assertFalse(settings.toString().contains("s3cret"), settings.toString());
    }

    @Test
    void aPortOutOfRangeIsRefused() {
        assertThrows(SettingsException.class, () -> AdminSettings.from(config(Map.of("regmirror.admin.port", 70000))));
    }
}
