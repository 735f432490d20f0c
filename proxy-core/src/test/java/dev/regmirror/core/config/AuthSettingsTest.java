package dev.regmirror.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.auth.AccessDecision;
import dev.regmirror.core.auth.AccessPolicy;
import dev.regmirror.core.auth.AccessRule;
import dev.regmirror.core.auth.Account;
import dev.regmirror.core.auth.Action;
import dev.regmirror.core.auth.Caller;
import dev.regmirror.core.auth.ImagePattern;
import dev.regmirror.core.auth.Principal;
import dev.regmirror.core.auth.token.TokenSettings;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** regmirror.auth and require-account, from the configuration into AuthSettings, with messages naming the key. */
class AuthSettingsTest {

    @TempDir
    Path dir;

    private AuthSettings load(String conf) throws IOException {
        Path file = dir.resolve("application.conf");
        Files.writeString(file, conf);
        return MirrorSettings.from(ConfigLoader.load(Optional.of(file), Map.of())).auth();
    }

    private String refusal(String conf) {
        return assertThrows(SettingsException.class, () -> load(conf)).getMessage();
    }

    private Path htpasswd() throws IOException {
        Path file = dir.resolve("htpasswd");
        Files.writeString(file, "alice:" + OpenBSDBCrypt.generate("2y", "pw".toCharArray(), new byte[16], 4) + "\n");
        return file;
    }

    private static Route route(String registry, String name) {
        return new Route(registry, new RepositoryName(name));
    }

    @Test
    void byDefaultThereAreNoAccountsNoRulesAndEveryoneMayPull() throws IOException {
        AuthSettings auth = load("");
        assertEquals(Optional.empty(), auth.htpasswd());
        assertEquals(Duration.ofSeconds(10), auth.htpasswdReload());
        assertEquals(List.of(), auth.rules());
        assertEquals(Set.of(), auth.accountOnlyRegistries());
        assertEquals(TokenSettings.defaults(), auth.token());
        assertEquals(AccessDecision.ALLOWED,
                auth.policy().decide(Caller.ANONYMOUS, route("ghcr.io", "org/tool"), Action.PULL));
        assertEquals(AuthSettings.open(), auth);
    }

    @Test
    void everySettingIsRead() throws Exception {
        Path htpasswd = htpasswd();
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        Path key = dir.resolve("token-key.pem");
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(generator.generateKeyPair().getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        AuthSettings auth = load("""
                regmirror.auth {
                  htpasswd = "%s"
                  htpasswd-reload = 30s
                  admins = ["alice"]
                  rules = [
                    { images = ["ghcr.io/myorg/**", "quay.io/myorg/*"], allow = ["alice", "authenticated"] }
                    { images = ["docker.io/library/*"], deny = ["mallory"], actions = ["pull", "push"] }
                    { images = ["**"], allow = ["anonymous"], deny = ["anonymous"] }
                  ]
                  token { service = "mirror.lan", issuer = "regmirror-1", lifetime = 10m, signing-key = "%s" }
                }
                regmirror.upstreams.nvcr.require-account = true
                """.formatted(htpasswd, key));
        assertEquals(Optional.of(htpasswd), auth.htpasswd());
        assertEquals(Duration.ofSeconds(30), auth.htpasswdReload());
        assertEquals(Set.of("alice"), auth.admins());
        assertEquals(List.of(
                new AccessRule(List.of(new ImagePattern("ghcr.io/myorg/**"), new ImagePattern("quay.io/myorg/*")),
                        Set.of(Action.PULL), Optional.of(List.of(Principal.parse("alice"), Principal.AUTHENTICATED)),
                        List.of()),
                new AccessRule(List.of(new ImagePattern("docker.io/library/*")), Set.of(Action.PULL, Action.PUSH),
                        Optional.empty(), List.of(Principal.parse("mallory"))),
                new AccessRule(List.of(new ImagePattern("**")), Set.of(Action.PULL), Optional.of(List.of(Principal.ANONYMOUS)),
                        List.of(Principal.ANONYMOUS))), auth.rules());
        assertEquals(Set.of("nvcr.io"), auth.accountOnlyRegistries());
        assertEquals(new TokenSettings("mirror.lan", "regmirror-1", Duration.ofMinutes(10), Optional.of(key)), auth.token());

        AccessPolicy policy = auth.policy();
        assertInstanceOf(AccessDecision.NeedsAccount.class,
                policy.decide(Caller.ANONYMOUS, route("nvcr.io", "nvidia/cuda"), Action.PULL));
        assertEquals(AccessDecision.ALLOWED, policy.decide(new Account("alice", true), route("nvcr.io", "nvidia/cuda"),
                Action.PULL));
    }

    @Test
    void requireAccountIsInheritedFromUpstreamDefaults() throws IOException {
        AuthSettings auth = load("""
                regmirror.auth.htpasswd = "%s"
                regmirror.upstream-defaults.require-account = true
                regmirror.upstreams.dockerhub.require-account = false
                """.formatted(htpasswd()));
        assertEquals(Set.of("ghcr.io", "quay.io", "registry.k8s.io", "gcr.io", "mcr.microsoft.com", "nvcr.io",
                "public.ecr.aws"), auth.accountOnlyRegistries());
    }

    @Test
    void theHtpasswdFileIsCheckedAtStart() throws IOException {
        Path bad = dir.resolve("bad-htpasswd");
        Files.writeString(bad, "# accounts\nalice:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n");
        assertEquals("regmirror.auth.htpasswd: htpasswd file " + bad + ", line 2 (user alice): an Apache MD5 ($apr1$) "
                + "hash; only bcrypt hashes ($2y$, $2a$, $2b$) are accepted: create them with htpasswd -B",
                refusal("regmirror.auth.htpasswd = \"" + bad + "\""));
        Path missing = dir.resolve("missing");
        assertEquals("regmirror.auth.htpasswd: cannot read htpasswd file " + missing + ": no such file",
                refusal("regmirror.auth.htpasswd = \"" + missing + "\""));
    }

    @Test
    void accountsNeedAnHtpasswdFile() {
        assertEquals("regmirror.auth.admins: no account can sign in: set regmirror.auth.htpasswd",
                refusal("regmirror.auth.admins = [\"alice\"]"));
        assertEquals("regmirror.auth.rules.1: names accounts (authenticated or by name) but no account can sign in: "
                + "set regmirror.auth.htpasswd", refusal("""
                regmirror.auth.rules = [
                  { images = ["**"], deny = ["anonymous"], actions = ["push"] }
                  { images = ["ghcr.io/**"], allow = ["authenticated"] }
                ]"""));
        assertEquals("regmirror.upstreams.nvcr.require-account: no account can sign in: set regmirror.auth.htpasswd "
                + "(or require-account = false; it may come from upstream-defaults)",
                refusal("regmirror.upstreams.nvcr.require-account = true"));
    }

    @Test
    void badRulesNameTheRuleAndTheKey() throws IOException {
        String prefix = "regmirror.auth.htpasswd = \"" + htpasswd() + "\"\nregmirror.auth.rules = ";
        assertEquals("regmirror.auth.rules.0.image: not a rule setting (those are [actions, allow, deny, images])",
                refusal(prefix + "[{ image = [\"**\"], allow = [\"anonymous\"] }]"));
        assertEquals("regmirror.auth.rules.0: set images = [\"<registry>/<repository pattern>\", ...]",
                refusal(prefix + "[{ allow = [\"anonymous\"] }]"));
        assertEquals("regmirror.auth.rules.0.images: at least one pattern",
                refusal(prefix + "[{ images = [], allow = [\"anonymous\"] }]"));
        assertEquals("regmirror.auth.rules.0.images: \"docker.io\": a pattern is <registry>/<repository pattern>, such as "
                + "docker.io/library/* or ghcr.io/org/**", refusal(prefix + "[{ images = [\"docker.io\"], allow = [] }]"));
        String unknown = refusal(prefix + "[{ images = [\"registry-1.docker.io/library/*\"], allow = [] }]");
        assertTrue(unknown.startsWith("regmirror.auth.rules.0.images: \"registry-1.docker.io/library/*\" names registry "
                + "registry-1.docker.io, which no upstream serves; patterns use the registry names [docker.io, gcr.io"),
                unknown);
        assertEquals("regmirror.auth.rules.1: set allow, deny or both",
                refusal(prefix + "[{ images = [\"**\"], allow = [] }, { images = [\"**\"] }]"));
        assertEquals("regmirror.auth.rules.0.deny: \"a:b\" is not an account name (anonymous, authenticated or an account)",
                refusal(prefix + "[{ images = [\"**\"], deny = [\"a:b\"] }]"));
        assertEquals("regmirror.auth.rules.0.actions: \"pul\" is not pull, push or delete",
                refusal(prefix + "[{ images = [\"**\"], deny = [], actions = [\"pul\"] }]"));
        assertEquals("regmirror.auth.rules.0.actions: at least one of pull, push, delete",
                refusal(prefix + "[{ images = [\"**\"], deny = [], actions = [] }]"));
        String wrongType = refusal(prefix + "[{ images = [\"**\"], allow = \"alice\" }]");
        assertTrue(wrongType.startsWith("regmirror.auth.rules.0: ") && wrongType.contains("allow"), wrongType);
        String notObjects = refusal(prefix + "[\"docker.io/**\"]");
        assertTrue(notObjects.startsWith("regmirror.auth: ") && notObjects.contains("rules"), notObjects);
    }

    @Test
    void badTokenSettingsNameTheKey() throws IOException {
        assertEquals("regmirror.auth.token.lifetime: must be 60s to 1h, was PT30S",
                refusal("regmirror.auth.token.lifetime = 30s"));
        assertEquals("regmirror.auth.token.lifetime: must be 60s to 1h, was PT2H",
                refusal("regmirror.auth.token.lifetime = 2h"));
        assertEquals("regmirror.auth.token.service: \"a\"b\" must be printable ASCII without spaces, quotes or backslashes",
                refusal("regmirror.auth.token.service = \"a\\\"b\""));
        assertEquals("regmirror.auth.token.issuer: \"\" must be printable ASCII without spaces, quotes or backslashes",
                refusal("regmirror.auth.token.issuer = \"\""));
        Path notAKey = dir.resolve("not-a-key.pem");
        Files.writeString(notAKey, "hello\n");
        assertEquals("regmirror.auth.token.signing-key: signing key " + notAKey + " holds no PEM private key "
                + "(BEGIN PRIVATE KEY or BEGIN EC PRIVATE KEY)", refusal("regmirror.auth.token.signing-key = \"" + notAKey + "\""));
        assertEquals("regmirror.auth.htpasswd-reload: must be positive, was PT0S", refusal("regmirror.auth.htpasswd-reload = 0s"));
    }

    @Test
    void misspeltKeysAndWrongTypesAreRefused() {
        String typo = refusal("regmirror.auth.htpasswdd = \"/etc/htpasswd\"\nregmirror.auth.token.lifetme = 5m");
        assertTrue(typo.contains("regmirror.auth.htpasswdd") && typo.contains("regmirror.auth.token.lifetme"), typo);
        String requireAccount = refusal("regmirror.upstreams.ghcr.require-account = maybe");
        assertTrue(requireAccount.startsWith("regmirror.upstreams.ghcr: ") && requireAccount.contains("require-account"),
                requireAccount);
    }
}
