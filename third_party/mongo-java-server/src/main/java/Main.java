import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import java.util.List;

/**
 * mongo-java-server in memory on 127.0.0.1:<port>, change streams on, mongod's failCommand fail
 * point mirrored (FailCommandBackend). Usage: Main <port>
 */
public final class Main {
    // 1.47.0's newest ServerVersion (MONGO_5_0) announces wire version 8, which the Node driver 7.x
    // refuses (it needs 9+); announce MongoDB 6.0 (wire version 17) instead.
    private static final MongoVersion MONGO_6_0 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(6, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 17;
        }
    };

    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        MongoServer server = new MongoServer(new FailCommandBackend().version(MONGO_6_0));
        server.enableOplog();
        server.bind("127.0.0.1", Integer.parseInt(args[0]));
        // The JVM runs this on SIGTERM, then exits.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        System.out.println("listening on " + server.getLocalAddress());
    }
}
