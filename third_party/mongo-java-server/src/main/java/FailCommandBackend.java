import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;
import de.bwaldvogel.mongo.exception.MongoServerException;
import de.bwaldvogel.mongo.wire.message.MessageHeader;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The memory backend with mongod's failCommand fail point, test tooling only: it mirrors the
 * subset of db.adminCommand({configureFailPoint: 'failCommand', mode, data}) the specs use, so they
 * send the command they would send to a mongod started with enableTestCommands. It acts on OP_MSG,
 * how drivers send every command after the handshake.
 */
final class FailCommandBackend extends MemoryBackend {
    private static final Set<String> DATA_FIELDS = Set.of(
        "failCommands", "errorCode", "closeConnection", "errorLabels", "blockConnection", "blockTimeMS");
    private static final Set<String> FAIL_POINT_COMMANDS = Set.of("configureFailPoint", "waitForFailPoint");
    // mongod's names for the codes the specs use (mongod names every code; this, only these).
    private static final Map<Integer, String> CODE_NAMES = Map.of(
        2, "BadValue", 6, "HostUnreachable", 13, "Unauthorized", 43, "CursorNotFound",
        50, "MaxTimeMSExpired", 91, "ShutdownInProgress", 280, "ChangeStreamFatalError",
        286, "ChangeStreamHistoryLost", 10334, "BSONObjectTooLarge", 11600, "InterruptedAtShutdown");
    /** The reply handed back for a blocked command; DeferredReplies drops it, the real one comes later. */
    private static final Document DEFERRED = new Document();
    private static final String DEFERRED_REPLIES = "failCommand-deferred-replies";
    private static final DeferredReplies DROP_DEFERRED = new DeferredReplies();

    /** Blocked commands resume here: mongod sleeps in the connection's own thread, but netty's are shared. */
    private final ScheduledExecutorService blocks = Executors.newSingleThreadScheduledExecutor(run -> {
        Thread thread = new Thread(run, "failCommand-blockConnection");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicInteger replyIds = new AtomicInteger();
    /** Commands left to fail: 0 off, -1 alwaysOn. */
    private long remaining;
    private long timesEntered;
    private Document data = new Document();

    @Override
    public Document handleMessage(MongoMessage message) {
        String command = message.getDocument().keySet().iterator().next();
        Document armed = FAIL_POINT_COMMANDS.contains(command) ? null : enter(command);
        if (armed == null) return super.handleMessage(message);
        if (!Boolean.TRUE.equals(armed.get("blockConnection"))) return fail(message, armed);
        // As mongod: the connection answers nothing until blockTimeMS have passed, then goes on as
        // closeConnection or errorCode say, or runs the command. Other connections are served meanwhile.
        Channel channel = message.getChannel();
        if (channel.pipeline().get(DEFERRED_REPLIES) == null)
            channel.pipeline().addLast(DEFERRED_REPLIES, DROP_DEFERRED);
        long blockMs = ((Number) armed.get("blockTimeMS")).longValue();
        blocks.schedule(() -> {
            if (!channel.isActive()) return;
            Document reply = fail(message, armed);
            MessageHeader header = new MessageHeader(replyIds.incrementAndGet(), message.getHeader().getRequestID());
            if (channel.isActive()) channel.writeAndFlush(new MongoMessage(channel, header, reply));
        }, blockMs, TimeUnit.MILLISECONDS);
        return DEFERRED;
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
        if (command.equals("configureFailPoint")) return configure(database, query);
        if (command.equals("waitForFailPoint")) return waitFor(query);
        return super.handleCommand(channel, database, command, query);
    }

    /** What a command the fail point fired for answers, once any block is over. */
    private Document fail(MongoMessage message, Document armed) {
        if (Boolean.TRUE.equals(armed.get("closeConnection"))) {
            // mongod hangs up without a reply: the reply the caller writes next goes nowhere.
            message.getChannel().close();
            return failure(50985, "Failing command due to 'failCommand' failpoint");
        }
        if (!armed.containsKey("errorCode")) return run(message);
        int code = ((Number) armed.get("errorCode")).intValue();
        Document reply = failure(code, "Failing command via 'failCommand' failpoint");
        if (armed.get("errorLabels") != null) reply.put("errorLabels", armed.get("errorLabels"));
        return reply;
    }

    /** The command itself, its errors answered as the server's handler answers them. */
    private Document run(MongoMessage message) {
        try {
            return super.handleMessage(message);
        } catch (MongoServerError error) {
            Document reply = failure(error.getCode(), error.getMessageWithoutErrorCode());
            if (error.getCodeName() != null) reply.put("codeName", error.getCodeName());
            return reply;
        } catch (MongoServerException error) {
            return new Document("ok", 0.0).append("errmsg", error.getMessageWithoutErrorCode());
        }
    }

    /** The fail point's data if it fires for this command (counted as mongod counts), else null. */
    private synchronized Document enter(String command) {
        if (remaining == 0 || !((List<?>) data.get("failCommands")).contains(command)) return null;
        if (remaining > 0) remaining -= 1;
        timesEntered += 1;
        return data;
    }

    private synchronized Document configure(String database, Document query) {
        if (!database.equals("admin"))
            return failure(13, "configureFailPoint may only be run against the admin database.");
        if (!"failCommand".equals(query.get("configureFailPoint")))
            return failure(2, "only the failCommand fail point is mirrored");
        Object mode = query.get("mode");
        Document newData = query.get("data") instanceof Document given ? given : new Document();
        long times;
        if ("off".equals(mode)) times = 0;
        else if ("alwaysOn".equals(mode)) times = -1;
        else if (mode instanceof Document doc && doc.get("times") instanceof Number n && n.longValue() > 0)
            times = n.longValue();
        else return failure(2, "mode must be 'off', 'alwaysOn' or {times: N > 0}, got " + mode);
        if (times != 0) {
            String invalid = invalidData(newData);
            if (invalid != null) return failure(2, invalid);
        }
        remaining = times;
        data = newData;
        return new Document("count", timesEntered).append("ok", 1.0);
    }

    /** Why mongod would not act on this data as the launcher does, or null. */
    private static String invalidData(Document data) {
        if (!(data.get("failCommands") instanceof List)) return "data.failCommands must be an array";
        for (String field : data.keySet())
            if (!DATA_FIELDS.contains(field)) return "data." + field + " is not mirrored by this launcher";
        boolean blocks = Boolean.TRUE.equals(data.get("blockConnection"));
        if (blocks && !(data.get("blockTimeMS") instanceof Number ms && ms.longValue() >= 0))
            // mongod fails the command itself with this; the launcher refuses the data at once.
            return "must specify a non-negative 'blockTimeMS' when 'blockConnection' is true";
        if (!blocks && !data.containsKey("errorCode") && !Boolean.TRUE.equals(data.get("closeConnection")))
            return "data needs errorCode, closeConnection: true or blockConnection: true (nothing else is mirrored)";
        return null;
    }

    /** Answers at once (mongod waits up to maxTimeMS): a client polls until timesEntered is reached. */
    private synchronized Document waitFor(Document query) {
        if (!"failCommand".equals(query.get("waitForFailPoint")))
            return failure(2, "only the failCommand fail point is mirrored");
        if (timesEntered >= ((Number) query.get("timesEntered")).longValue()) return new Document("ok", 1.0);
        return failure(50, "operation exceeded time limit");
    }

    private static Document failure(int code, String message) {
        Document reply = new Document("ok", 0.0).append("errmsg", message).append("code", code);
        reply.putIfNotNull("codeName", CODE_NAMES.get(code));
        return reply;
    }

    /** Drops the placeholder reply of a blocked command; its own reply is written when the block ends. */
    @ChannelHandler.Sharable
    private static final class DeferredReplies extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext context, Object message, ChannelPromise promise) {
            if (message instanceof MongoMessage reply && reply.getDocument() == DEFERRED) promise.setSuccess();
            else context.write(message, promise);
        }
    }
}
