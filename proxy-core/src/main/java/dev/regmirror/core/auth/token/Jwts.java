package dev.regmirror.core.auth.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.regmirror.core.auth.Account;
import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Signs and checks the JWTs of the <a href="https://distribution.github.io/distribution/spec/auth/jwt/">token
 * implementation spec</a>: ES256 with regmirror's key id, {@code iss}, {@code sub}, {@code aud},
 * {@code exp}, {@code nbf}, {@code iat}, {@code jti} and the {@code access} claim.
 */
final class Jwts {

    /** How far apart the clocks of two replicas sharing a key may be. */
    static final Duration LEEWAY = Duration.ofSeconds(10);
    /** Longer tokens are refused before parsing; regmirror's are a few hundred bytes per scope. */
    static final int MAX_LENGTH = 16_384;

    private final TokenSettings settings;
    private final SigningKey key;
    private final JWSSigner signer;
    private final JWSVerifier verifier;
    private final SecureRandom random = new SecureRandom();

    Jwts(TokenSettings settings, SigningKey key) {
        this.settings = settings;
        this.key = key;
        try {
            this.signer = new ECDSASigner(key.jwk());
            this.verifier = new ECDSAVerifier(key.jwk().toPublicJWK());
        } catch (JOSEException e) {
            throw new IllegalStateException("an EC P-256 key signs ES256", e);
        }
    }

    /** A signed token for the subject granting the access, valid from {@code now} for the configured lifetime. */
    String sign(String subject, List<Scope> access, Instant now) {
        List<Map<String, Object>> entries = new ArrayList<>();
        for (Scope scope : access) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("type", scope.type());
            entry.put("name", scope.name());
            entry.put("actions", scope.actions());
            entries.add(entry);
        }
        byte[] id = new byte[16];
        random.nextBytes(id);
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(settings.issuer())
                .subject(subject)
                .audience(settings.service())
                .expirationTime(Date.from(now.plus(settings.lifetime())))
                .notBeforeTime(Date.from(now))
                .issueTime(Date.from(now))
                .jwtID(Base64URL.encode(id).toString())
                .claim("access", entries)
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.keyId())
                .type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing with an EC P-256 key", e);
        }
        return jwt.serialize();
    }

    /** Checks a token at {@code now}, accepting nothing else than what {@link #sign} makes; never throws. */
    TokenCheck check(String token, Instant now) {
        try {
            return checked(token, now);
        } catch (ParseException | JOSEException | RuntimeException e) {
            return new TokenCheck.Invalid("malformed token");
        }
    }

    private TokenCheck checked(String token, Instant now) throws ParseException, JOSEException {
        if (token.length() > MAX_LENGTH) {
            return new TokenCheck.Invalid("token longer than " + MAX_LENGTH + " characters");
        }
        SignedJWT jwt = SignedJWT.parse(token);
        JWSHeader header = jwt.getHeader();
        if (!JWSAlgorithm.ES256.equals(header.getAlgorithm())) {
            return new TokenCheck.Invalid("algorithm " + header.getAlgorithm() + " is not ES256");
        }
        if (!key.keyId().equals(header.getKeyID())) {
            return new TokenCheck.Invalid("unknown key id");
        }
        if (!jwt.verify(verifier)) {
            return new TokenCheck.Invalid("bad signature");
        }
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        if (!settings.issuer().equals(claims.getIssuer())) {
            return new TokenCheck.Invalid("issued by another issuer");
        }
        if (claims.getAudience() == null || !claims.getAudience().contains(settings.service())) {
            return new TokenCheck.Invalid("for another audience");
        }
        Date expires = claims.getExpirationTime();
        Date notBefore = claims.getNotBeforeTime();
        if (expires == null || notBefore == null) {
            return new TokenCheck.Invalid("without exp or nbf");
        }
        if (now.isAfter(expires.toInstant().plus(LEEWAY))) {
            return new TokenCheck.Invalid("expired at " + expires.toInstant());
        }
        if (now.isBefore(notBefore.toInstant().minus(LEEWAY))) {
            return new TokenCheck.Invalid("not valid before " + notBefore.toInstant());
        }
        String subject = claims.getSubject();
        if (subject == null || !subject.isEmpty() && !Account.isValidName(subject)) {
            return new TokenCheck.Invalid("without a valid subject");
        }
        Optional<List<Scope>> access = access(claims.getClaim("access"));
        if (access.isEmpty()) {
            return new TokenCheck.Invalid("malformed access claim");
        }
        return new TokenCheck.Valid(subject, access.get(), expires.toInstant());
    }

    /** The access claim: a list of {type, name, actions} objects. */
    private static Optional<List<Scope>> access(Object claim) {
        if (!(claim instanceof List<?> list)) {
            return Optional.empty();
        }
        List<Scope> scopes = new ArrayList<>();
        for (Object element : list) {
            if (!(element instanceof Map<?, ?> entry) || !(entry.get("type") instanceof String type)
                    || !(entry.get("name") instanceof String name) || !(entry.get("actions") instanceof List<?> actions)
                    || !actions.stream().allMatch(String.class::isInstance)) {
                return Optional.empty();
            }
            scopes.add(new Scope(type, name, actions.stream().map(String.class::cast).toList()));
        }
        return Optional.of(scopes);
    }
}
