/**
 * Line and byte protocols on server-framework's core: {@link dev.serverframework.echo.EchoProtocol} (the C
 * original's echo demo) and {@link dev.serverframework.echo.ChatProtocol} (a chat room through
 * {@code Server.each}, its {@link dev.serverframework.echo.ChatRoom} shared by any transport).
 */
module dev.serverframework.echo {
    requires transitive dev.serverframework.core;
    requires org.slf4j;

    exports dev.serverframework.echo;
}
