package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.Config;
import dev.regmirror.core.cluster.ClusterSettings;
import dev.regmirror.core.config.ConfigLoader;
import dev.regmirror.core.config.MirrorSettings;
import dev.regmirror.core.config.S3Settings;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the deployment files in {@code conf/} (docs/scale-out.md): the Kubernetes manifests against
 * the Kubernetes schema, the {@code application.conf} of their ConfigMap with regmirror's own
 * settings loader in the StatefulSet's environment, the names the manifests share, and the systemd
 * unit with {@code systemd-analyze verify}.
 */
class DeploymentFilesTest {

    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    private static final Path MANIFESTS = REPOSITORY.resolve("conf/kubernetes/regmirror.yaml");
    private static final Path UNIT = REPOSITORY.resolve("conf/regmirror.service");
    /** The validator's package.json, lock file and script (kubernetes-models 5.x run by node). */
    private static final Path VALIDATOR = Path.of("src/test/kubernetes");
    private static final String POD_IP = "10.1.2.3";
    private static final Pattern DEPENDENT_VARIABLE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    @TempDir
    Path work;

    /**
     * kubernetes-models' classes validate each document against its kind's OpenAPI schema (types,
     * required fields, enums). The package is installed beside the script before the tests run
     * ({@code npm ci --prefix proxy-server/src/test/kubernetes}, in the README's test command and
     * {@code .ci/run}): the test itself reaches no other host.
     */
    @Test
    void theManifestsMatchTheKubernetesSchema() throws Exception {
        assumeTrue(onPath("node"), "DeploymentFilesTest: the Kubernetes schema check needs node; skipped");
        Path check = VALIDATOR.toAbsolutePath();
        assumeTrue(Files.isDirectory(check.resolve("node_modules/kubernetes-models")), "DeploymentFilesTest: the schema "
                + "validator is not installed (npm ci --prefix proxy-server/src/test/kubernetes); skipped");
        Run validate = run(check, "node", "validate.mjs", MANIFESTS.toString());
        assertEquals(0, validate.exit(), validate.output());
        assertEquals(documents().size(), validate.output().lines().filter(line -> line.endsWith(": valid")).count(),
                "every document checked:\n" + validate.output());
    }

    /** A misspelt regmirror key, a bad value or a missing secret in the manifests fails here, not in the pod. */
    @Test
    void theConfigMapsSettingsLoadInTheStatefulSetsEnvironment() throws Exception {
        Path conf = work.resolve("application.conf");
        Files.writeString(conf, only("ConfigMap", "regmirror").at("/data/application.conf").asText());
        Map<String, String> environment = environment();

        Config loaded = ConfigLoader.load(Optional.of(conf), environment);
        MirrorSettings mirror = MirrorSettings.from(loaded);
        ServerSettings server = ServerSettings.from(loaded);
        AdminSettings.from(loaded);
        ClusterSettings cluster = ClusterSettings.from(loaded, mirror.storage());

        JsonNode secret = only("Secret", "regmirror").at("/stringData");
        S3Settings s3 = mirror.storage().s3().orElseThrow();
        assertEquals(Optional.of(secret.get("s3-access-key").asText()), s3.accessKey());
        assertEquals(Optional.of(secret.get("s3-secret-key").asText()), s3.secretKey());
        assertTrue(cluster.enabled());
        assertEquals(secret.get("cluster-secret").asText(), cluster.secret());
        int containerPort = container().at("/ports/0/containerPort").asInt();
        assertEquals(POD_IP + ":" + containerPort, cluster.self().toString(), "self is the pod IP on the node port");
        assertEquals(containerPort, server.listeners().get(0).port(), "the registry API on the container's port");
        assertEquals(only("StatefulSet", "regmirror").at("/spec/serviceName").asText(),
                cluster.peersDns().orElseThrow().host(), "peers-dns names the StatefulSet's headless Service");
        assertEquals(containerPort, cluster.peersDns().orElseThrow().port());
    }

    @Test
    void theServicesProbesAndSecretsMeetTheStatefulSet() throws Exception {
        JsonNode set = only("StatefulSet", "regmirror");
        JsonNode labels = set.at("/spec/template/metadata/labels");
        assertEquals(labels, set.at("/spec/selector/matchLabels"));
        JsonNode headless = only("Service", set.at("/spec/serviceName").asText());
        assertEquals("None", headless.at("/spec/clusterIP").asText(), "peers-dns needs one record per pod");
        assertTrue(headless.at("/spec/publishNotReadyAddresses").asBoolean(),
                "nodes find each other before they are ready; their health checks decide who is live");
        for (JsonNode document : documents()) {
            if (document.get("kind").asText().equals("Service")) {
                assertEquals(labels, document.at("/spec/selector"), document.at("/metadata/name").asText());
                assertEquals("registry", document.at("/spec/ports/0/targetPort").asText());
            }
        }
        JsonNode container = container();
        assertEquals("registry", container.at("/ports/0/name").asText());
        assertEquals("/readyz", container.at("/readinessProbe/httpGet/path").asText());
        assertEquals("/healthz", container.at("/livenessProbe/httpGet/path").asText());
        assertEquals("status.podIP", envEntry(container, "POD_IP").at("/valueFrom/fieldRef/fieldPath").asText());
        JsonNode secret = only("Secret", "regmirror");
        for (JsonNode variable : container.get("env")) {
            JsonNode reference = variable.at("/valueFrom/secretKeyRef");
            if (!reference.isMissingNode()) {
                assertEquals(secret.at("/metadata/name").asText(), reference.get("name").asText());
                assertTrue(secret.at("/stringData").has(reference.get("key").asText()), variable.toString());
            }
        }
        assertFalse(only("ConfigMap", "regmirror").at("/data/application.conf").asText().contains("secret-key"),
                "keys and secrets come from the Secret, never from the ConfigMap");
    }

    /** systemd-analyze answers 0 even for unknown keys; it prints them, so the unit must print nothing. */
    @Test
    void theSystemdUnitVerifies() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "DeploymentFilesTest: systemd-analyze not installed; unit not checked");
        Run verify = run(work, "systemd-analyze", "verify", UNIT.toString());
        assertEquals(0, verify.exit(), verify.output());
        assertEquals("", verify.output().strip(), "systemd-analyze verify found problems");
    }

    /** The container's environment as Kubernetes gives it: Secret values, the pod IP, $(VAR) expanded. */
    private Map<String, String> environment() throws IOException {
        JsonNode secret = only("Secret", "regmirror").at("/stringData");
        Map<String, String> environment = new LinkedHashMap<>();
        for (JsonNode variable : container().get("env")) {
            String name = variable.get("name").asText();
            if (variable.has("value")) {
                Matcher matcher = DEPENDENT_VARIABLE.matcher(variable.get("value").asText());
                StringBuilder value = new StringBuilder();
                while (matcher.find()) {
                    String earlier = environment.get(matcher.group(1));
                    matcher.appendReplacement(value, Matcher.quoteReplacement(
                            earlier == null ? matcher.group() : earlier));
                }
                environment.put(name, matcher.appendTail(value).toString());
            } else if (variable.at("/valueFrom/fieldRef/fieldPath").asText().equals("status.podIP")) {
                environment.put(name, POD_IP);
            } else if (variable.at("/valueFrom/secretKeyRef").isObject()) {
                environment.put(name, secret.get(variable.at("/valueFrom/secretKeyRef/key").asText()).asText());
            }
        }
        return environment;
    }

    private JsonNode container() throws IOException {
        return only("StatefulSet", "regmirror").at("/spec/template/spec/containers/0");
    }

    private static JsonNode envEntry(JsonNode container, String name) {
        for (JsonNode variable : container.get("env")) {
            if (variable.get("name").asText().equals(name)) {
                return variable;
            }
        }
        throw new AssertionError("no " + name + " in the container's env");
    }

    private static JsonNode only(String kind, String name) throws IOException {
        List<JsonNode> found = documents().stream().filter(document -> document.path("kind").asText().equals(kind)
                && document.at("/metadata/name").asText().equals(name)).toList();
        assertEquals(1, found.size(), "one " + kind + " named " + name + " in " + MANIFESTS);
        return found.get(0);
    }

    private static List<JsonNode> documents() throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> all = new YAMLMapper().readerFor(JsonNode.class).readValues(MANIFESTS.toFile())) {
            while (all.hasNext()) {
                JsonNode document = all.next();
                if (document != null && !document.isNull() && !document.isEmpty()) {
                    documents.add(document);
                }
            }
        }
        return documents;
    }

    private record Run(int exit, String output) {
    }

    /** Runs a command in {@code directory}, its output (both streams) collected, for at most 5 minutes. */
    private static Run run(Path directory, String... command) throws IOException, InterruptedException {
        Path output = Files.createTempFile("deployment-files", ".out");
        try {
            Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not end within 5 minutes");
            }
            return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static boolean onPath(String command) {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!directory.isEmpty() && Files.isExecutable(Path.of(directory, command))) {
                return true;
            }
        }
        return false;
    }
}
