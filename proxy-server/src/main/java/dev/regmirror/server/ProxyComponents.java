package dev.regmirror.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.admin.ArchiveImport;
import dev.regmirror.core.admin.CacheCleaner;
import dev.regmirror.core.auth.AccessControl;
import dev.regmirror.core.auth.Accounts;
import dev.regmirror.core.auth.token.SigningKey;
import dev.regmirror.core.auth.token.TokenService;
import dev.regmirror.core.blob.BlobStore;
import dev.regmirror.core.config.S3Settings;
import dev.regmirror.core.storage.s3.S3Objects;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.cache.CacheIndex;
import dev.regmirror.core.cache.PullStore;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.client.ClientLoops;
import dev.regmirror.core.client.FailoverRegistryClient;
import dev.regmirror.core.client.LimitedRegistryClient;
import dev.regmirror.core.client.MeteredRegistryClient;
import dev.regmirror.core.client.RegistryClient;
import dev.regmirror.core.cluster.BlobOwners;
import dev.regmirror.core.cluster.ClusterBlobs;
import dev.regmirror.core.cluster.ClusterManifests;
import dev.regmirror.core.cluster.ClusterSettings;
import dev.regmirror.core.cluster.ManifestOwners;
import dev.regmirror.core.cluster.Membership;
import dev.regmirror.core.cluster.PeerWatch;
import dev.regmirror.core.config.AuthSettings;
import dev.regmirror.core.config.MirrorSettings;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.core.hosted.HostedGc;
import dev.regmirror.core.hosted.HostedManifests;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.hosted.Uploads;
import dev.regmirror.core.mirror.DigestLinks;
import dev.regmirror.core.mirror.HostedDigests;
import dev.regmirror.core.mirror.Prefetch;
import dev.regmirror.core.mirror.PrefetchJobs;
import dev.regmirror.core.mirror.PullThroughBlobs;
import dev.regmirror.core.mirror.PullThroughManifests;
import dev.regmirror.core.mirror.PullThroughReferrers;
import dev.regmirror.core.mirror.PullThroughTags;
import dev.regmirror.core.mirror.RecentManifests;
import dev.regmirror.core.mirror.RegistryClients;
import dev.regmirror.core.mirror.StorageHealth;
import dev.regmirror.core.mirror.TagPolicy;
import dev.regmirror.core.mirror.TagReach;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.tls.TlsMaterialException;
import dev.regmirror.core.tls.TlsMaterialLoader;
import dev.regmirror.core.upstream.UpstreamLimits;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import dev.regmirror.core.verify.CacheVerify;
import dev.regmirror.core.verify.VerifyJobs;
import dev.regmirror.server.admin.AdminApi;
import dev.regmirror.server.admin.AdminAuthHandler;
import dev.regmirror.server.admin.AdminRequestDecoder;
import dev.regmirror.server.admin.ClusterHandler;
import dev.regmirror.core.admin.ImageCatalog;
import dev.regmirror.server.admin.HistoryHandler;
import dev.regmirror.server.admin.ExportHandler;
import dev.regmirror.server.admin.ImageHandler;
import dev.regmirror.server.admin.ImagesHandler;
import dev.regmirror.server.admin.MetricsHistory;
import dev.regmirror.server.admin.TagTableHandler;
import dev.regmirror.server.admin.UpstreamsHandler;
import dev.regmirror.server.console.ConsoleHandler;
import dev.regmirror.server.console.ConsoleSessions;
import dev.regmirror.server.admin.ImportHandler;
import dev.regmirror.server.admin.JobsHandler;
import dev.regmirror.server.admin.PrefetchHandler;
import dev.regmirror.server.admin.PruneHandler;
import dev.regmirror.server.admin.PurgeHandler;
import dev.regmirror.server.admin.UsageHandler;
import dev.regmirror.server.admin.VerifyHandler;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.cluster.NodeClient;
import dev.regmirror.server.cluster.NodeHandler;
import dev.regmirror.server.pipeline.AccessLog;
import dev.regmirror.server.pipeline.AllowedClientsHandler;
import dev.regmirror.server.pipeline.ApiPipeline;
import dev.regmirror.server.pipeline.HttpBasics;
import dev.regmirror.server.pipeline.ListenerChannelInitializer;
import dev.regmirror.server.pipeline.OperationsHandler;
import dev.regmirror.server.pipeline.RefusalLog;
import dev.regmirror.server.pipeline.RegistryApi;
import dev.regmirror.server.pipeline.V2RequestDecoder;
import dev.regmirror.server.tls.ReloadingSslContext;
import dev.regmirror.server.v2.AccessHandler;
import dev.regmirror.server.v2.BaseHandler;
import dev.regmirror.server.v2.BlobHandler;
import dev.regmirror.server.v2.CatalogHandler;
import dev.regmirror.server.v2.ContinueHandler;
import dev.regmirror.server.v2.DeleteHandler;
import dev.regmirror.server.v2.HostedBlobHandler;
import dev.regmirror.server.v2.HostedManifestHandler;
import dev.regmirror.server.v2.HostedReferrersHandler;
import dev.regmirror.server.v2.HostedTagsHandler;
import dev.regmirror.server.v2.ManifestPushHandler;
import dev.regmirror.server.v2.ManifestHandler;
import dev.regmirror.server.v2.ReferrersHandler;
import dev.regmirror.server.v2.TagsHandler;
import dev.regmirror.server.v2.TokenHandler;
import dev.regmirror.server.v2.UploadHandler;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.ChannelHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/**
 * The composition root: the one place that builds and wires regmirror's objects from its settings,
 * and shuts down what it started.
 */
public final class ProxyComponents implements AutoCloseable {

    /** How often changed pull counts are written to the cache directory. */
    private static final long PULLS_FLUSH_SECONDS = 30;
    /** Blobs of one image a prefetch fetches at once. */
    private static final int PREFETCH_PARALLEL_BLOBS = 3;
    /** Prefetch jobs that run at once; more wait, queued. */
    private static final int PREFETCH_JOBS_RUNNING = 2;
    /** Prefetch jobs remembered for {@code GET /admin/jobs}. */
    private static final int PREFETCH_JOBS_KEPT = 1000;
    /** Verify jobs remembered for {@code GET /admin/jobs}. */
    private static final int VERIFY_JOBS_KEPT = 20;
    /** Part uploads to the bucket at once, across all blobs being stored (one at a time per blob). */
    private static final int STORAGE_UPLOAD_THREADS = 8;
    /** Exports written at once; more wait their turn. */
    private static final int EXPORT_THREADS = 2;
    /** Bytes of cached manifests kept in memory, so that answering one takes no disk read (RecentManifests). */
    private static final long RECENT_MANIFEST_BYTES = 16L << 20;
    /** Digests linked to mirrored repositories under pull rules, a manifest's named ones counted: some 30 MiB at most. */
    private static final long DIGEST_LINKS = 300_000;
    private static final int AUTH_THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());
    /** Event loops reading blob bodies from upstreams: each only moves buffers, so two serve many downloads. */
    private static final int UPSTREAM_LOOPS = 2;

    private final ExecutorService diskExecutor;
    /**
     * Cache maintenance: purges, prunes and the processing of imports, one at a time, so a prune
     * never sees an import half-done and admin work never holds the disk threads pulls need.
     */
    private final ExecutorService maintenanceExecutor;
    private final ExecutorService upstreamExecutor;
    /** Reads blob bodies from upstreams (Netty's HTTP client); never writes to disk or hashes. */
    private final ClientLoops upstreamLoops;
    /**
     * Verifies, one at a time: a thread of their own, held for as long as a verify reads the cache
     * at its bounded rate, so purges, prunes and imports do not wait behind it.
     */
    private final ExecutorService verifyExecutor;
    private final ExecutorService authExecutor;
    private final Accounts accounts;
    private final ScheduledExecutorService scheduler;
    private final List<Listener> listeners;
    private final CacheStorage storage;
    /** The bucket of the cache, when it is in one. */
    private Optional<S3Objects> objects = Optional.empty();
    /** Where parts of blobs being stored in the bucket are sent. */
    private final ExecutorService storageUploads;
    /** Where export archives are written, as fast as their clients read them. */
    private final ExecutorService exportExecutor;
    private final PrometheusMeterRegistry metrics;
    private final AccessLog accessLog;
    private final AtomicBoolean closed = new AtomicBoolean();

    public ProxyComponents(MirrorSettings mirror, ServerSettings server, AdminSettings admin, Clock clock)
            throws IOException {
        this(mirror, server, admin, ClusterSettings.disabled(), clock);
    }

    /** @param cluster this node's cluster, if it is in one */
    public ProxyComponents(MirrorSettings mirror, ServerSettings server, AdminSettings admin, ClusterSettings cluster,
                           Clock clock) throws IOException {
        // Event loops hand work to this pool: its queue must never make them wait for a lock, which
        // LinkedBlockingQueue (the usual fixed pool's) does under contention; LinkedTransferQueue
        // offers without locking.
        this.diskExecutor = new ThreadPoolExecutor(server.diskThreads(), server.diskThreads(), 0, TimeUnit.MILLISECONDS,
                new LinkedTransferQueue<>(), named("regmirror-disk"));
        this.maintenanceExecutor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedTransferQueue<>(),
                named("regmirror-maintenance"));
        // With every thread started, execute() only offers to the queue: a pool short of its core
        // threads starts one under its main lock, which an event loop would wait for.
        ((ThreadPoolExecutor) diskExecutor).prestartAllCoreThreads();
        ((ThreadPoolExecutor) maintenanceExecutor).prestartAllCoreThreads();
        this.upstreamExecutor = Executors.newCachedThreadPool(named("regmirror-upstream"));
        this.upstreamLoops = Epoll.isAvailable()
                ? new ClientLoops(new EpollEventLoopGroup(UPSTREAM_LOOPS,
                        new DefaultThreadFactory("regmirror-upstream-io", true)), EpollSocketChannel::new)
                : ClientLoops.nio(UPSTREAM_LOOPS, "regmirror-upstream-io");
        this.verifyExecutor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedTransferQueue<>(),
                named("regmirror-verify"));
        ((ThreadPoolExecutor) verifyExecutor).prestartAllCoreThreads();
        // Password (bcrypt) and token (ECDSA) checks: slow by design, never on an event loop; as
        // many threads as cores, so a flood of wrong passwords cannot take more than the CPU.
        this.authExecutor = new ThreadPoolExecutor(AUTH_THREADS, AUTH_THREADS, 0, TimeUnit.MILLISECONDS,
                new LinkedTransferQueue<>(), named("regmirror-auth"));
        ((ThreadPoolExecutor) authExecutor).prestartAllCoreThreads();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(named("regmirror-timer"));
        this.storageUploads = new ThreadPoolExecutor(STORAGE_UPLOAD_THREADS, STORAGE_UPLOAD_THREADS, 0,
                TimeUnit.MILLISECONDS, new LinkedTransferQueue<>(), named("regmirror-store-upload"));
        this.exportExecutor = new ThreadPoolExecutor(EXPORT_THREADS, EXPORT_THREADS, 0, TimeUnit.MILLISECONDS,
                new LinkedTransferQueue<>(), named("regmirror-export"));

        UpstreamRouter router = mirror.router();
        // One for the process: every store of the cache, hosted content retained before the first eviction.
        try {
            this.storage = openStorage(mirror, router.hosted().enabled(), clock);
        } catch (IOException | RuntimeException e) {
            // Nothing else started yet: stop the threads made so far, so a refused start leaves none.
            List.of(scheduler, storageUploads, exportExecutor, upstreamExecutor, authExecutor, verifyExecutor,
                    maintenanceExecutor, diskExecutor).forEach(ExecutorService::shutdownNow);
            upstreamLoops.group().shutdownGracefully(0, 1, TimeUnit.SECONDS);
            objects.ifPresent(S3Objects::close);
            throw e;
        }
        BlobStore blobStore = storage.blobs();
        CacheLayout layout = storage.layout();
        ManifestStore manifestStore = storage.manifests();
        RepositoryStore repositories = storage.repositories();
        TagStore tags = storage.tags();
        Optional<HostedStore> hosted = storage.hosted();
        PullStore pulls = storage.pulls();
        scheduler.scheduleWithFixedDelay(() -> diskExecutor.execute(this::flushPulls), PULLS_FLUSH_SECONDS,
                PULLS_FLUSH_SECONDS, TimeUnit.SECONDS);
        this.metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmGcMetrics().bindTo(metrics);
        new ProcessorMetrics().bindTo(metrics);
        this.accessLog = accessLog(server.accessLog(), metrics);
        Gauge.builder("regmirror.cache.bytes", blobStore.index(), index -> index.totalBytes())
                .description("bytes of blobs and manifests in the cache").baseUnit("bytes").register(metrics);
        Gauge.builder("regmirror.cache.blobs", blobStore.index(), index -> index.size())
                .description("blobs and manifests in the cache").register(metrics);
        // Read on scrape, which runs on the disk executor.
        Gauge.builder("regmirror.cache.disk.free", layout.root(), ProxyComponents::usableSpace)
                .description("bytes free for the cache on its file system").baseUnit("bytes").register(metrics);
        hosted.ifPresent(store -> Gauge.builder("regmirror.hosted.bytes", blobStore.index(), CacheIndex::retainedBytes)
                .description("bytes of blobs and manifests hosted repositories link, which no cap evicts")
                .baseUnit("bytes").register(metrics));
        FunctionCounter.builder("regmirror.cache.evictions", blobStore, store -> store.evictions())
                .description("blobs evicted past cache.max-size").register(metrics);
        List<RegistryClient> clients = new ArrayList<>();
        List<FailoverRegistryClient> failovers = new ArrayList<>();
        for (UpstreamSettings upstream : mirror.upstreams()) {
            FailoverRegistryClient failover = FailoverRegistryClient.create(upstream, upstreamExecutor, upstreamLoops,
                    scheduler, clock);
            failovers.add(failover);
            RegistryClient client = new MeteredRegistryClient(failover, metrics);
            // Outermost: a request waits for its turn before it is timed, and holds it over every endpoint it tries.
            UpstreamLimits limits = mirror.limits().get(upstream.registry());
            if (limits != null && limits.any()) {
                client = new LimitedRegistryClient(client, limits, upstreamExecutor, scheduler, Ticker.systemTicker(),
                        metrics);
            }
            clients.add(client);
        }
        RegistryClients registryClients = new RegistryClients(clients);

        ObjectMapper mapper = new ObjectMapper();
        ErrorResponder errors = new ErrorResponder(mapper);
        // Hosted content shares the store: a mirrored name gets a hosted digest only once its upstream has it too.
        HostedDigests hostedDigests = storage.holdsHosted() ? new HostedDigests(blobStore.index()::retained)
                : HostedDigests.NONE;
        // Under pull rules a cached digest is served to a mirrored name only once linked to it, so
        // the cache never hands one repository's content to a caller through another's name.
        // When the upstream cannot confirm one, what the name reached through its tags is served still.
        DigestLinks links = mirror.auth().restrictsPulls() ? DigestLinks.enforced(DIGEST_LINKS, metrics,
                new TagReach(tags, manifestStore, diskExecutor)) : DigestLinks.OPEN;
        PullThroughReferrers referrers = new PullThroughReferrers(registryClients, storage.referrers(),
                registry -> mirror.tagPolicies().getOrDefault(registry, TagPolicy.ALWAYS_ASK), diskExecutor, clock,
                metrics, links);
        Optional<NodeClient> nodeClient = cluster.enabled() ? Optional.of(new NodeClient(cluster, upstreamLoops,
                upstreamExecutor, scheduler, nodeReadTimeout(mirror))) : Optional.empty();
        Optional<Membership> membership = nodeClient.map(client -> startCluster(cluster, client, clock));
        Optional<ClusterBlobs> clusterBlobs = membership.map(members -> new ClusterBlobs(members, nodeClient.get()));
        BlobOwners owners = clusterBlobs.<BlobOwners>map(blobOwners -> blobOwners).orElse(BlobOwners.NONE);
        ManifestOwners manifestOwners = membership.<ManifestOwners>map(members -> new ClusterManifests(members,
                nodeClient.get())).orElse(ManifestOwners.NONE);
        PullThroughManifests manifests = new PullThroughManifests(registryClients, manifestStore, tags, repositories,
                registry -> mirror.tagPolicies().getOrDefault(registry, TagPolicy.ALWAYS_ASK), diskExecutor, clock,
                metrics, hostedDigests, links, new RecentManifests(blobStore.index(), RECENT_MANIFEST_BYTES),
                manifestOwners);
        PullThroughBlobs blobs = new PullThroughBlobs(registryClients, blobStore, diskExecutor, scheduler,
                mirror.cache().fillTimeout(), new StorageHealth(clock, mirror.cache().storageRetry(), metrics), metrics,
                hostedDigests, links, owners);
        Optional<AccessControl> access = Optional.empty();
        Optional<TokenService> tokens = Optional.empty();
        AuthSettings auth = mirror.auth();
        if (auth.enabled()) {
            this.accounts = accounts(auth);
            TokenService tokenService = new TokenService(auth.token(), signingKey(auth), auth.policy(), router, clock,
                    Ticker.systemTicker());
            access = Optional.of(new AccessControl(accounts, auth.policy(), tokenService));
            tokens = Optional.of(tokenService);
        } else {
            this.accounts = Accounts.none();
        }
        List<ChannelHandler> resources = new ArrayList<>();
        if (access.isPresent()) {
            AccessHandler.BlobHolders holders = hosted.<AccessHandler.BlobHolders>map(
                    store -> digest -> store.linking(router.hosted().registry(), digest)).orElse(AccessHandler.BlobHolders.NONE);
            resources.add(new AccessHandler(access.get(), tokens.get(), auth.admins(), holders, authExecutor, errors));
        }
        BlobResponder blobResponder = new BlobResponder(diskExecutor, metrics);
        resources.add(new TokenHandler(access, tokens, authExecutor, mapper, errors));
        resources.add(new BaseHandler());
        if (hosted.isPresent()) {
            // Before the mirrored handlers: each takes its resource's hosted requests and passes the
            // rest on. Pushes get their 100 Continue once access is decided, before their handler.
            resources.add(new ContinueHandler());
            Uploads uploads = new Uploads(hosted.get(), blobStore, clock, router.hosted().uploadTimeout(), metrics,
                    links);
            long sweepMillis = uploadSweepMillis(router.hosted().uploadTimeout());
            scheduler.scheduleWithFixedDelay(() -> diskExecutor.execute(uploads::sweep), sweepMillis, sweepMillis,
                    TimeUnit.MILLISECONDS);
            resources.add(new UploadHandler(uploads, diskExecutor, errors));
            resources.add(new HostedBlobHandler(hosted.get(), blobStore, blobResponder, diskExecutor, errors));
            HostedManifests hostedManifests = new HostedManifests(hosted.get(), manifestStore,
                    router.hosted().maxManifestBytes());
            resources.add(new HostedManifestHandler(hostedManifests, diskExecutor, errors));
            resources.add(new ManifestPushHandler(hostedManifests, diskExecutor, errors));
            resources.add(new DeleteHandler(hostedManifests, router.hosted(), diskExecutor, errors));
            resources.add(new HostedTagsHandler(hostedManifests, diskExecutor, mapper, errors));
            resources.add(new HostedReferrersHandler(hostedManifests, diskExecutor, mapper, errors));
        }
        Optional<ChannelHandler> nodes = membership.map(members -> new NodeHandler(cluster.self(),
                cluster.secretBytes(), blobs, manifests, blobResponder, mirror.upstreams().stream()
                        .map(UpstreamSettings::registry).collect(java.util.stream.Collectors.toSet()), errors,
                cluster.tls().enabled()));
        RegistryApi registryApi = new RegistryApi(new OperationsHandler(metrics, diskExecutor, layout,
                objects.<Runnable>map(bucket -> bucket::checkBucket).orElse(OperationsHandler.NO_STORE)), nodes,
                new V2RequestDecoder(router, errors), concat(resources, List.of(
                new ManifestHandler(manifests, pulls, errors),
                new BlobHandler(blobs, blobResponder, errors),
                new TagsHandler(new PullThroughTags(registryClients), mapper, errors),
                new ReferrersHandler(referrers, errors),
                new CatalogHandler(repositories, hosted, diskExecutor, mapper, errors))), metrics, router::serves);
        // Seeded here, off the event loops: PrefetchJobs draws ids under its lock, on the admin event loop.
        SplittableRandom jobIds = new SplittableRandom(new SecureRandom().nextLong());
        PrefetchJobs prefetchJobs = new PrefetchJobs(router,
                new Prefetch(manifests, blobs, registryClients, PREFETCH_PARALLEL_BLOBS)::pull, diskExecutor, clock,
                () -> HexFormat.of().toHexDigits(jobIds.nextInt()), PREFETCH_JOBS_RUNNING, PREFETCH_JOBS_KEPT);
        long verifyRate = mirror.cache().verifyBytesPerSecond();
        VerifyJobs verifyJobs = new VerifyJobs(new CacheVerify(blobStore, manifestStore, verifyRate, clock, metrics),
                verifyRate, verifyExecutor, clock, () -> "verify-" + HexFormat.of().toHexDigits(jobIds.nextInt()),
                VERIFY_JOBS_KEPT);
        CacheCleaner cleaner = new CacheCleaner(storage,
                hosted.map(store -> new HostedGc(store, manifestStore, blobStore.index(), router.hosted().registry(),
                        router.hosted().uploadTimeout(), clock)),
                hosted.<Lock>map(store -> store.pushLock().writeLock()).orElseGet(ReentrantLock::new));
        ConsoleSessions sessions = new ConsoleSessions(drbg(), clock);
        AdminAuthHandler adminAuth = new AdminAuthHandler(admin.token(), accounts, authExecutor, errors, sessions);
        ImageCatalog catalog = new ImageCatalog(storage, router.hosted().registry());
        MetricsHistory history = new MetricsHistory(metrics, failovers.stream().map(FailoverRegistryClient::registry)
                .toList(), clock);
        long historyStep = MetricsHistory.step().toMillis();
        // The first sample at start: the charts then have a baseline however soon they are looked at.
        scheduler.scheduleAtFixedRate(() -> diskExecutor.execute(history::sample), 0, historyStep,
                TimeUnit.MILLISECONDS);
        AdminApi adminApi = new AdminApi(List.of(new ConsoleHandler(adminAuth, sessions, mapper, errors)), adminAuth,
                new AdminRequestDecoder(errors, router),
                new UsageHandler(storage, diskExecutor, mapper, errors),
                new ImagesHandler(catalog, diskExecutor, mapper, errors),
                new PrefetchHandler(prefetchJobs, mapper, errors), new JobsHandler(prefetchJobs, verifyJobs, mapper, errors),
                new PurgeHandler(cleaner, maintenanceExecutor, mapper, errors),
                new PruneHandler(cleaner, maintenanceExecutor, mapper, errors),
                new VerifyHandler(verifyJobs, mapper),
                ImportHandler.factory(adminAuth, new ArchiveImport(storage, router, clock, links), layout, diskExecutor,
                        maintenanceExecutor, server.idleTimeout(), mapper, errors),
                List.of(new TagTableHandler(catalog, diskExecutor, mapper, errors),
                        new ImageHandler(catalog, storage, diskExecutor, mapper, errors),
                        new ExportHandler(storage, router, diskExecutor, exportExecutor, errors),
                        new UpstreamsHandler(failovers, metrics, mapper),
                        new ClusterHandler(membership.map(members -> new ClusterHandler.Cluster(cluster, members,
                                clusterBlobs.get())), mapper),
                        new HistoryHandler(history, diskExecutor, mapper, errors)));

        TlsMaterialLoader tlsLoader = new TlsMaterialLoader(clock);
        SslProvider tlsProvider = server.tlsProvider().resolve();
        List<Listener> built = new ArrayList<>();
        Predicate<HttpRequest> fromPeer = cluster.enabled() ? NodeHandler.fromPeer(cluster.secretBytes())
                : request -> false;
        for (ListenerSettings listener : server.listeners()) {
            built.add(listener(listener, registryApi, fromPeer, server, tlsLoader, tlsProvider, errors, clock));
        }
        built.add(listener(admin.listener(), adminApi, request -> false, server, tlsLoader, tlsProvider, errors, clock));
        this.listeners = List.copyOf(built);
    }

    /**
     * This node's view of the cluster, kept current by health checks of its peers (and DNS
     * look-ups) on the upstream threads, scheduled on the timer; {@code regmirror.cluster.nodes.live}
     * counts the live nodes, this one included.
     */
    private Membership startCluster(ClusterSettings cluster, NodeClient client, Clock clock) {
        Membership membership = new Membership(cluster.self(), clock);
        new PeerWatch(cluster, membership, client, PeerWatch::systemResolver, upstreamExecutor).start(scheduler);
        Gauge.builder("regmirror.cluster.nodes.live", membership, members -> members.live().size())
                .description("nodes of the cluster that answer their health checks, this one included")
                .register(metrics);
        return membership;
    }

    /** How long a node waits for an owner: as long as the owner waits for its slowest upstream, and 5 s more. */
    private static java.time.Duration nodeReadTimeout(MirrorSettings mirror) {
        return mirror.endpoints().stream().map(endpoint -> endpoint.settings().readTimeout())
                .max(java.time.Duration::compareTo).orElse(java.time.Duration.ofSeconds(30)).plusSeconds(5);
    }

    /** A DRBG: seeded once here, it never reads the system's entropy again, so sign-ins never wait on it. */
    private static SecureRandom drbg() {
        try {
            SecureRandom random = SecureRandom.getInstance("DRBG");
            random.nextBytes(new byte[1]); // seeds it now
            return random;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no DRBG SecureRandom", e);
        }
    }

    /** How often idle uploads are looked for: a quarter of the timeout, between 100 ms and a minute. */
    private static long uploadSweepMillis(java.time.Duration timeout) {
        return Math.max(100, Math.min(60_000, timeout.toMillis() / 4));
    }

    /** The accounts of the htpasswd file, checked for changes on the timer; a bad file stops start-up. */
    private Accounts accounts(AuthSettings auth) {
        if (auth.htpasswd().isEmpty()) {
            return Accounts.none();
        }
        Accounts loaded;
        try {
            loaded = Accounts.open(auth.htpasswd().get(), auth.admins(), Ticker.systemTicker());
        } catch (IOException e) {
            throw new SettingsException("regmirror.auth.htpasswd: " + e.getMessage(), e);
        }
        long every = auth.htpasswdReload().toMillis();
        scheduler.scheduleWithFixedDelay(() -> {
            Accounts.Reload reload = loaded.reloadIfChanged();
            if (reload instanceof Accounts.Reload.Failed failed) {
                LoggerFactory.getLogger(ProxyComponents.class).error("keeping the accounts read before: {}",
                        failed.message());
            } else if (reload instanceof Accounts.Reload.Reloaded reloaded) {
                LoggerFactory.getLogger(ProxyComponents.class).info("accounts read again from {}: {} accounts",
                        auth.htpasswd().get(), reloaded.accounts());
            }
        }, every, every, TimeUnit.MILLISECONDS);
        return loaded;
    }

    private static SigningKey signingKey(AuthSettings auth) {
        if (auth.token().signingKey().isEmpty()) {
            return SigningKey.generate();
        }
        try {
            return SigningKey.read(auth.token().signingKey().get());
        } catch (IOException | RuntimeException e) {
            throw new SettingsException("regmirror.auth.token.signing-key: " + e.getMessage(), e);
        }
    }

    private static <T> List<T> concat(List<T> first, List<T> second) {
        List<T> all = new ArrayList<>(first);
        all.addAll(second);
        return all;
    }

    /** A listener's settings, its channel initializer, and its TLS context if it has one. */
    public record Listener(ListenerSettings settings, ListenerChannelInitializer initializer,
                           Optional<ReloadingSslContext> tls) {
    }

    /**
     * Builds a listener; a TLS listener's files are loaded now, and checked for a change on the timer.
     * The requests {@code unlimited} picks (a cluster peer's) pass its rate limit.
     */
    private Listener listener(ListenerSettings settings, ApiPipeline api, Predicate<HttpRequest> unlimited,
                              ServerSettings server,
                              TlsMaterialLoader tlsLoader, SslProvider tlsProvider, ErrorResponder errors, Clock clock) {
        Optional<ReloadingSslContext> tls = Optional.empty();
        if (settings.tls().isPresent()) {
            TlsSettings files = settings.tls().get();
            try {
                ReloadingSslContext context = new ReloadingSslContext(settings.name(), files.certificate(),
                        files.privateKey(), tlsLoader, tlsProvider);
                scheduler.scheduleWithFixedDelay(context::reloadIfChanged, server.tlsReloadInterval().toMillis(),
                        server.tlsReloadInterval().toMillis(), TimeUnit.MILLISECONDS);
                tls = Optional.of(context);
            } catch (TlsMaterialException e) {
                throw new SettingsException(e.getMessage(), e);
            }
        }
        AllowedClientsHandler allowed = settings.allowed().any() ? null
                : new AllowedClientsHandler(settings.name(), settings.allowed(), errors, clock);
        // Each listener counts its clients apart: a flood of pulls does not lock the operator out of the admin API.
        HttpBasics basics = new HttpBasics(server.idleTimeout(), server.limits(), errors,
                new RefusalLog(settings.name(), Ticker.systemTicker(), metrics), accessLog, Ticker.systemTicker(),
                allowed, unlimited);
        return new Listener(settings, new ListenerChannelInitializer(basics, api,
                tls.<Supplier<SslContext>>map(context -> context::current).orElse(null)), tls);
    }

    /** The access log on its output: standard output, or a file opened now (appending), so a bad path stops start-up. */
    private static AccessLog accessLog(AccessLogSettings settings, PrometheusMeterRegistry metrics) {
        if (!settings.enabled()) {
            return AccessLog.off(metrics);
        }
        if (settings.file().isEmpty()) {
            return new AccessLog(System.out, settings.highWaterMark(), metrics);
        }
        try {
            return new AccessLog(Files.newOutputStream(settings.file().get(), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND), settings.highWaterMark(), metrics);
        } catch (IOException e) {
            throw new SettingsException("regmirror.server.access-log.output: cannot open " + settings.file().get()
                    + ": " + e, e);
        }
    }

    /** The registry API's listeners, the main one first, then the admin API's. */
    public List<Listener> listeners() {
        return listeners;
    }

    public PrometheusMeterRegistry metrics() {
        return metrics;
    }

    /** The accounts that can sign in (none without an htpasswd file). */
    public Accounts accounts() {
        return accounts;
    }

    /** The cache's stores. */
    public CacheStorage storage() {
        return storage;
    }

    /**
     * The cache for this process: on disk, or in the bucket of {@code regmirror.storage.s3} (checked
     * first: a missing bucket or refused credentials stop start-up with the setting to look at),
     * whose multipart uploads left by a node that died are aborted now and every hour.
     */
    private CacheStorage openStorage(MirrorSettings mirror, boolean hosting, Clock clock) throws IOException {
        if (mirror.storage().s3().isEmpty()) {
            return CacheStorage.open(mirror.cache().directory(), mirror.cache().maxBytes(), hosting, clock);
        }
        S3Settings s3 = mirror.storage().s3().get();
        S3Objects bucket = S3Objects.open(s3);
        this.objects = Optional.of(bucket);
        bucket.checkBucket();
        // No upload lives longer than the fill timeout: older ones belong to no running fill.
        java.time.Duration leftover = mirror.cache().fillTimeout().plusMinutes(5);
        Runnable abortLeftovers = () -> {
            try {
                int aborted = bucket.abortUploadsStartedBefore(clock.instant().minus(leftover));
                if (aborted > 0) {
                    LoggerFactory.getLogger(ProxyComponents.class).info("aborted {} unfinished uploads in {}",
                            aborted, bucket.describe());
                }
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(ProxyComponents.class).warn("cleaning up unfinished uploads: {}", e.getMessage());
            }
        };
        abortLeftovers.run();
        scheduler.scheduleWithFixedDelay(() -> maintenanceExecutor.execute(abortLeftovers), 1, 1, TimeUnit.HOURS);
        CacheStorage storage = CacheStorage.openS3(mirror.cache().directory(), bucket, s3, mirror.cache().maxBytes(),
                hosting, storageUploads, clock);
        // Other nodes on the bucket learn of this one's stores and purges within an interval or two, and it of theirs.
        // On a storage thread, not the maintenance one, which a long purge or import may hold for minutes.
        AtomicBoolean exchanging = new AtomicBoolean();
        scheduler.scheduleWithFixedDelay(() -> {
            if (exchanging.compareAndSet(false, true)) {
                diskExecutor.execute(() -> {
                    try {
                        storage.exchangeChanges();
                    } catch (IOException | RuntimeException e) {
                        LoggerFactory.getLogger(ProxyComponents.class).debug("exchanging changes with {}: {}",
                                bucket.describe(), e.toString());
                    } finally {
                        exchanging.set(false);
                    }
                });
            }
        }, s3.changesInterval().toMillis(), s3.changesInterval().toMillis(), TimeUnit.MILLISECONDS);
        return storage;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return; // closed already: the storage's clients are gone, and a second flush would fail on them
        }
        scheduler.shutdownNow();
        upstreamExecutor.shutdownNow();
        upstreamLoops.group().shutdownGracefully(0, 1, TimeUnit.SECONDS);
        authExecutor.shutdownNow();
        // A verify running stops at its next blob; what it moved aside stays moved.
        verifyExecutor.shutdownNow();
        maintenanceExecutor.shutdown();
        diskExecutor.shutdown();
        try {
            maintenanceExecutor.awaitTermination(5, TimeUnit.SECONDS);
            diskExecutor.awaitTermination(5, TimeUnit.SECONDS);
            verifyExecutor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flushPulls();
        storageUploads.shutdownNow();
        exportExecutor.shutdownNow();
        objects.ifPresent(S3Objects::close);
        accessLog.close();
        try {
            storage.close();
        } catch (IOException e) {
            LoggerFactory.getLogger(ProxyComponents.class).warn("releasing the cache directory: {}", e.toString());
        }
    }

    private void flushPulls() {
        try {
            storage.pulls().flush();
        } catch (IOException e) {
            LoggerFactory.getLogger(ProxyComponents.class).warn("saving pull counts: {}", e.toString());
        }
    }

    private static double usableSpace(Path directory) {
        try {
            return Files.getFileStore(directory).getUsableSpace();
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
