package dev.tikhon.engine;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * {@code @ExtendWith(OneThread.class)}: the test class runs libtorch on one thread and restores the count after.
 * For tests of many small ops, where one thread is faster and steadier on a busy machine.
 */
public final class OneThread implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(OneThread.class);

    @Override public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("before", Engine.threads());
        Engine.setThreads(1);
    }

    @Override public void afterAll(ExtensionContext context) {
        Engine.setThreads(context.getStore(NS).get("before", Integer.class));
    }
}
