import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The memory backend with mongod's failCommand fail point, test tooling only: it mirrors the
 * subset of db.adminCommand({configureFailPoint: 'failCommand', mode, data}) the specs use, so they
 * send the command they would send to a mongod started with enableTestCommands.
 */
final class FailCommandBackend extends MemoryBackend {
    private static final Set<String> DATA_FIELDS =
        Set.of("failCommands", "errorCode", "closeConnection", "errorLabels");
    // mongod's names for the codes the specs use (mongod names every code; this, only these).
    private static final Map<Integer, String> CODE_NAMES = Map.of(
        2, "BadValue", 6, "HostUnreachable", 13, "Unauthorized", 43, "CursorNotFound",
        50, "MaxTimeMSExpired", 91, "ShutdownInProgress", 280, "ChangeStreamFatalError",
        286, "ChangeStreamHistoryLost", 10334, "BSONObjectTooLarge", 11600, "InterruptedAtShutdown");

    /** Commands left to fail: 0 off, -1 alwaysOn. */
    private long remaining;
    private long timesEntered;
    private Document data = new Document();

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
        if (command.equals("configureFailPoint")) return configure(database, query);
        if (command.equals("waitForFailPoint")) return waitFor(query);
        Document armed = enter(command);
        if (armed == null) return super.handleCommand(channel, database, command, query);
        if (Boolean.TRUE.equals(armed.get("closeConnection"))) {
            // mongod hangs up without a reply: the reply the caller writes next goes nowhere.
            channel.close();
            return failure(50985, "Failing command due to 'failCommand' failpoint");
        }
        int code = ((Number) armed.get("errorCode")).intValue();
        Document reply = failure(code, "Failing command via 'failCommand' failpoint");
        if (armed.get("errorLabels") != null) reply.put("errorLabels", armed.get("errorLabels"));
        return reply;
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
            if (!(newData.get("failCommands") instanceof List))
                return failure(2, "data.failCommands must be an array");
            if (!newData.containsKey("errorCode") && !Boolean.TRUE.equals(newData.get("closeConnection")))
                return failure(2, "data needs errorCode or closeConnection: true (nothing else is mirrored)");
            for (String field : newData.keySet())
                if (!DATA_FIELDS.contains(field))
                    return failure(2, "data." + field + " is not mirrored by this launcher");
        }
        remaining = times;
        data = newData;
        return new Document("count", timesEntered).append("ok", 1.0);
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
}
