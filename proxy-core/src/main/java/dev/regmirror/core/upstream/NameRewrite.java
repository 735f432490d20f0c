package dev.regmirror.core.upstream;

import dev.regmirror.core.reference.RepositoryName;
import java.util.Objects;

/**
 * How an endpoint lays out an upstream's repositories: a template with one {@code {repository}},
 * such as {@code ddn-k8s/docker.io/{repository}} for a sync station that keeps
 * {@code docker.io/library/nginx} as {@code ddn-k8s/docker.io/library/nginx}.
 */
public record NameRewrite(String template) {

    public static final String PLACEHOLDER = "{repository}";

    /** The rewrite that leaves names as they are. */
    public static final NameRewrite IDENTITY = new NameRewrite(PLACEHOLDER);

    public NameRewrite {
        Objects.requireNonNull(template, "template");
        int first = template.indexOf(PLACEHOLDER);
        if (first < 0 || template.indexOf(PLACEHOLDER, first + 1) >= 0) {
            throw new IllegalArgumentException("a rewrite template holds " + PLACEHOLDER + " exactly once: " + template);
        }
        String probe = template.replace(PLACEHOLDER, "a");
        if (!RepositoryName.isValid(probe)) {
            throw new IllegalArgumentException("rewrite template " + template + " does not make valid repository names");
        }
    }

    /** The name at the endpoint for a name in the upstream's own naming. */
    public RepositoryName apply(RepositoryName name) {
        return new RepositoryName(template.replace(PLACEHOLDER, name.value()));
    }

    @Override
    public String toString() {
        return template;
    }
}
