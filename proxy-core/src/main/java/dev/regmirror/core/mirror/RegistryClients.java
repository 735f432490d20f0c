package dev.regmirror.core.mirror;

import dev.regmirror.core.client.RegistryClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The upstream clients by registry name, built once by the composition root. */
public final class RegistryClients {

    private final Map<String, RegistryClient> byRegistry = new LinkedHashMap<>();

    public RegistryClients(List<RegistryClient> clients) {
        for (RegistryClient client : clients) {
            byRegistry.put(client.registry(), client);
        }
    }

    public RegistryClient forRegistry(String registry) {
        RegistryClient client = byRegistry.get(registry);
        if (client == null) {
            throw new IllegalStateException("no client for upstream " + registry);
        }
        return client;
    }
}
