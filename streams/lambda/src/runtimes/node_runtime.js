// Tarn's runtime loop for nodejs* functions: speaks the Lambda Runtime API
// (AWS_LAMBDA_RUNTIME_API) and calls the handler named by _HANDLER
// ("file.export", the file under LAMBDA_TASK_ROOT; .js, .cjs or .mjs),
// async or callback style, with Lambda's context object, console format
// and error JSON (errorType, errorMessage, trace). Shipped inside the tarn
// binary and written to the data directory.
"use strict";
const path = require("path");
const fs = require("fs");
const http = require("http");
const { pathToFileURL } = require("url");
const util = require("util");

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const slash = api.indexOf("/");
const host = slash < 0 ? api : api.slice(0, slash);
const base = (slash < 0 ? "" : api.slice(slash)) + "/2018-06-01/runtime";
const [hostname, port] = host.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, path: base + p, method, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

let currentRequestId = undefined;
for (const [name, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"], ["debug", "DEBUG"]]) {
  console[name] = (...args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${level}\t${util.format(...args)}`;
    process.stdout.write(line.replace(/\n/g, "\r") + "\n");
  };
}

function errorBody(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({
    errorType: e.name || "Error",
    errorMessage: e.message,
    trace: (e.stack || "").split("\n"),
  });
}

async function loadHandler() {
  const handlerName = process.env._HANDLER || "";
  const dot = handlerName.lastIndexOf(".");
  if (dot < 0) {
    const e = new Error(`Bad handler ${handlerName}`);
    e.name = "Runtime.MalformedHandlerName";
    throw e;
  }
  const modulePath = handlerName.slice(0, dot);
  const exportName = handlerName.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT || ".";
  let mod;
  const candidates = [".js", ".cjs", ".mjs"].map((x) => path.resolve(root, modulePath + x));
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    const e = new Error(`Error: Cannot find module '${modulePath}'`);
    e.name = "Runtime.ImportModuleError";
    throw e;
  }
  try {
    if (file.endsWith(".mjs")) mod = await import(pathToFileURL(file).href);
    else {
      try {
        mod = require(file);
      } catch (err) {
        if (err.code === "ERR_REQUIRE_ESM") mod = await import(pathToFileURL(file).href);
        else throw err;
      }
    }
  } catch (err) {
    if (err instanceof SyntaxError) err.name = "Runtime.UserCodeSyntaxError";
    throw err;
  }
  const fn = mod[exportName] || (mod.default && mod.default[exportName]);
  if (typeof fn !== "function") {
    const e = new Error(`${modulePath}.${exportName} is undefined or not exported`);
    e.name = "Runtime.HandlerNotFound";
    throw e;
  }
  return fn;
}

function invokeHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(result);
    };
    context.done = callback;
    context.succeed = (r) => callback(null, r);
    context.fail = (e) => callback(e);
    try {
      const r = handler(event, context, callback);
      if (r && typeof r.then === "function") r.then((v) => callback(null, v), (e) => callback(e));
      else if (handler.length < 3) callback(null, r);
    } catch (err) {
      callback(err);
    }
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    console.error(`${err.name}: ${err.message}`);
    await request("POST", "/init/error", errorBody(err), {
      "Lambda-Runtime-Function-Error-Type": err.name || "Runtime.Unknown",
    });
    process.exit(1);
  }
  for (;;) {
    const next = await request("GET", "/invocation/next");
    const h = next.headers;
    const requestId = h["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    const deadline = Number(h["lambda-runtime-deadline-ms"] || 0);
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: h["lambda-runtime-invoked-function-arn"],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
      clientContext: h["lambda-runtime-client-context"] ? JSON.parse(h["lambda-runtime-client-context"]) : undefined,
    };
    process.env._X_AMZN_TRACE_ID = h["lambda-runtime-trace-id"] || "";
    try {
      const text = next.body.toString("utf8");
      const event = text.length ? JSON.parse(text) : null;
      const result = await invokeHandler(handler, event, context);
      const body = result === undefined ? "null" : JSON.stringify(result);
      await request("POST", `/invocation/${requestId}/response`, body);
    } catch (err) {
      const body = errorBody(err);
      console.error(`Invoke Error \t${body}`);
      await request("POST", `/invocation/${requestId}/error`, body, {
        "Lambda-Runtime-Function-Error-Type": "Unhandled",
      });
    }
    currentRequestId = undefined;
  }
}

main().catch((err) => {
  process.stderr.write(`runtime loop failed: ${err && err.stack}\n`);
  process.exit(1);
});
