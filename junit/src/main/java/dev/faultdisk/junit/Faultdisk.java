package dev.faultdisk.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs an embedded faultdisk for each test: before each test a fresh server starts with these
 * exports, NBD and QMP on free loopback ports; after it, the server stops and its exports close.
 * On a class it applies to every test; on a method it replaces the class's for that test.
 *
 * <p>Test and lifecycle methods take the running pieces as parameters:
 * {@link dev.faultdisk.client.FaultdiskClient} (connected and negotiated; the same one for the
 * whole test), {@link dev.faultdisk.server.FaultdiskServer},
 * {@code @ExportUri("NAME") String} (or {@code java.net.URI}) for a client's NBD URI, and
 * {@link CrashExplorer} to explore the crash states of a workload's run on an export.
 *
 * <pre>{@code
 * @Faultdisk(exports = "disk0=memory:64M")
 * class MyTest {
 *     @Test
 *     void survivesAFullDisk(FaultdiskClient fd, @ExportUri("disk0") String uri) { ... }
 * }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(FaultdiskExtension.class)
public @interface Faultdisk {
    /**
     * Exports as {@code faultdisk serve --export} takes them: {@code NAME=SPEC} with SPEC
     * {@code memory:SIZE}, a raw image path (with {@code ,size=SIZE} to create it), or
     * {@code blkdebug:CONF:IMAGE}; options {@code ,readonly}, {@code ,rules=FILE}.
     */
    String[] exports() default {"disk0=memory:64M"};

    /**
     * Triggers added before each test (docs/TRIGGERS.md), in order: each a trigger as JSON (an
     * object, or an array of them, as {@code trigger-add} takes them) or the path of a class-path
     * resource holding that JSON (e.g. {@code "triggers/hold-third-write.json"}). All are added in
     * one {@code trigger-add}: a bad one fails the test, naming the member, and none is added.
     *
     * <pre>{@code
     * @Faultdisk(triggers = """
     *     {"when": {"device": "disk0", "ops": ["write"], "nth": 3}, "actions": [{"action": "hold"}]}""")
     * }</pre>
     */
    String[] triggers() default {};

    /**
     * One server for all the tests of the class instead of one per test: it starts before the
     * first ({@code @BeforeAll} methods may take its client) and stops after the last. Between
     * tests the extension clears what a test may leave: triggers, fault rules (held requests
     * run), breakpoints (suspended requests go on), blkdebug rules, exports the test added; and
     * restores each export's cache mode. Data and counters stay. Only on a class; a method with
     * its own {@code @Faultdisk} gets a server of its own.
     */
    boolean perClass() default false;

    /**
     * With {@link #perClass()}: each test starts from the data the exports held when the first
     * test began (after {@code @BeforeAll} setup). The extension takes a snapshot of every
     * declared export then, and reverts to it after each test (docs/SNAPSHOTS.md): instant, in
     * proportion to what the test changed. Without it, data stays from one test to the next.
     */
    boolean revertData() default false;

    /**
     * How long a request may be held by a hang rule or a trigger's hold that names no timeout of
     * its own, in seconds (0: for ever, as {@code faultdisk serve} does). A held request keeps
     * its client waiting, and a client such as qemu-io flushes when it exits, so a rule the test
     * forgot to release would block it; when this fires, the hang rule's request fails (EIO, or
     * the rule's errno), a trigger's runs, and a warning on the log names the request and this
     * setting.
     */
    int holdTimeoutSeconds() default 30;

    /**
     * Milliseconds the server runs its request path on private exports before it listens
     * ({@code serve --warm-up}; 0, the default: none): for tests that time their first requests
     * (a client timeout over an injected delay), which a just-started JVM would otherwise serve
     * from its interpreter. Nothing of it reaches the test's exports. Each server the extension
     * starts pays it, so it suits {@link #perClass()} best.
     */
    int warmUpMillis() default 0;
}
