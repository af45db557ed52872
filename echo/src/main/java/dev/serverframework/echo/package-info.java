/**
 * Line and byte protocols that show how to build on the core: {@link dev.serverframework.echo.EchoProtocol}
 * (binary echo with back-pressure, and the C original's demo options) and
 * {@link dev.serverframework.echo.ChatProtocol}, the line protocol the echo demo grows into (kept here
 * rather than in {@code examples} so that {@code examples} stays a thin layer of commands), on a
 * transport-neutral {@link dev.serverframework.echo.ChatRoom} that web transports can share.
 */
package dev.serverframework.echo;
