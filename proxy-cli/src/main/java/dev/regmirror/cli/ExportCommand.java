package dev.regmirror.cli;

import dev.regmirror.core.admin.ImageArchive;
import dev.regmirror.core.admin.ImageArchiveWriter;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.ImageReference;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code regmirror export IMAGE -o FILE}: reads an image through the mirror's registry API (so the
 * cache answers what it has and the mirror pulls the rest) and writes it with its original digests,
 * as Docker 25's {@code docker save} does: an OCI image layout that is also a docker-archive
 * ({@code manifest.json}, {@code repositories}); or, with {@code --format oci}, only the OCI layout,
 * into a directory or, for a {@code .tar} name, an oci-archive.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write an image to a tar that docker load reads (or an OCI layout with --format oci), "
                + "with its original digests; what the cache lacks is pulled through the mirror.")
final class ExportCommand implements Callable<Integer> {

    /** What to write. */
    enum Format { docker, oci }

    static final String IMAGE_NAME = ImageArchiveWriter.IMAGE_NAME;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "[registry/]name[:tag][@digest], as docker pull takes it; with a digest, "
            + "that is exported and a tag beside it only names it in the archive.")
    private String image;

    @Option(names = {"-o", "--file"}, paramLabel = "FILE", required = true,
            description = "The tar file to write (docker); for --format oci a directory, or an oci-archive if it ends in .tar.")
    private Path file;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "docker",
            description = "docker (docker load; also an OCI layout) or oci; default: ${DEFAULT-VALUE}.")
    private Format format;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", defaultValue = "linux/amd64",
            description = "The image to take from a multi-platform index; default: ${DEFAULT-VALUE}.")
    private String platform;

    @Option(names = "--all", description = "With --format oci: keep a multi-platform index whole, every platform.")
    private boolean all;

    @Option(names = "--registry", paramLabel = "URL", defaultValue = "${env:REGMIRROR_REGISTRY:-http://127.0.0.1:5000}",
            description = "The mirror's registry API (default: $REGMIRROR_REGISTRY or http://127.0.0.1:5000).")
    private URI registry;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "2m", converter = StallLimit.Converter.class,
            description = "Give up when the mirror sends nothing for this long, before an answer or within a body "
                    + "(30s, 2m, 1h); default: ${DEFAULT-VALUE}.")
    private Duration timeout;

    @Override
    public Integer call() throws InterruptedException {
        ImageReference reference;
        try {
            reference = ImageReference.parse(image).withDefaultTag();
        } catch (InvalidRequestException e) {
            System.err.println("regmirror: " + e.getMessage());
            return 2;
        }
        if (all && format != Format.oci) {
            System.err.println("regmirror: --all needs --format oci (docker load takes one platform)");
            return 2;
        }
        try (StallLimit stall = new StallLimit(timeout)) {
            return export(reference, new MirrorClient(registry, stall));
        }
    }

    private int export(ImageReference reference, MirrorClient mirror) throws InterruptedException {
        boolean tar = format == Format.docker || file.getFileName().toString().endsWith(".tar");
        ImageArchive archive;
        try {
            archive = tar ? ImageArchive.tar(file) : ImageArchive.directory(file);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            System.err.println("regmirror: " + file + " already exists" + (tar ? "" : " and is not empty"));
            return 1;
        } catch (IOException e) {
            System.err.println("regmirror: cannot write " + file + ": " + e);
            return 1;
        }
        try {
            ImageArchiveWriter.Source source = source(mirror, reference);
            ManifestBytes top = failures(() -> mirror.manifest(reference.name(), reference.reference().toString()));
            ImageArchiveWriter.Plan plan = ImageArchiveWriter.plan(reference, top,
                    format == Format.docker ? ImageArchiveWriter.Format.DOCKER : ImageArchiveWriter.Format.OCI,
                    platform, all, source, notice -> System.err.println("regmirror: " + notice));
            long bytes = ImageArchiveWriter.write(plan, source, archive);
            archive.close();
            System.out.println("exported " + reference + " (" + plan.named().digest() + ", "
                    + plan.platform().map(p -> p + ", ").orElse("") + Sizes.human(bytes) + ") to " + file);
            return 0;
        } catch (ImageArchiveWriter.Refused e) {
            archive.discard();
            System.err.println("regmirror: " + e.getMessage());
            return 1;
        } catch (IOException | RuntimeException e) {
            archive.discard();
            System.err.println("regmirror: export of " + reference + " to " + file + " failed: " + e.getMessage());
            return 1;
        }
    }

    /** Manifests and blobs through the mirror's registry API; what the mirror refuses is {@link ImageArchiveWriter.Refused}. */
    private static ImageArchiveWriter.Source source(MirrorClient mirror, ImageReference reference) {
        return new ImageArchiveWriter.Source() {
            @Override
            public ManifestBytes manifest(Digest digest) throws IOException, InterruptedException {
                return failures(() -> mirror.manifest(reference.name(), digest.toString()));
            }

            @Override
            public InputStream blob(Digest digest, long size) throws IOException, InterruptedException {
                return failures(() -> mirror.blob(reference.name(), digest));
            }
        };
    }

    /** A call to the mirror. */
    private interface MirrorCall<T> {
        T call() throws AdminClient.Failure, InterruptedException;
    }

    private static <T> T failures(MirrorCall<T> call) throws ImageArchiveWriter.Refused, InterruptedException {
        try {
            return call.call();
        } catch (AdminClient.Failure e) {
            throw new ImageArchiveWriter.Refused(e.getMessage());
        }
    }
}
