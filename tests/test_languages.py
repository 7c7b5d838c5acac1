"""The tags queries of every supported language, on small idiomatic snippets.

Each case runs a snippet through the real extractor (``worker.extract_file``) and checks the
exact lists of symbols, as ``(name, kind, start_line, end_line, scope)``, and of imported
modules: whole lists rather than subsets, so a query that starts emitting locals, fields or
duplicates fails too. What each query leaves out on purpose is written at the top of its
``.scm`` file.
"""

from __future__ import annotations

import re
import tracemalloc
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from unittest.mock import ANY

import pytest
import tree_sitter as ts
import tree_sitter_language_pack as tslp

from snake_pipe import languages
from snake_pipe.parse import tags, worker
from snake_pipe.records import SYMBOL_KINDS, FileResult, WorkItem

LANGUAGES = (
    "python", "javascript", "typescript", "tsx", "java", "go", "rust", "c", "cpp", "csharp",
    "ruby", "php", "kotlin", "swift", "scala", "bash", "objc",
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    id: str
    language: str
    filename: str
    # (name, kind, start_line, end_line, scope); ANY for the end line of a C/C++ macro, whose
    # node ends at the start of the next line.
    symbols: list[tuple[str, str, int, object, str | None]]
    imports: list[str]
    code: str


def extract(tmp_path: Path, name: str, language: str | None, code: str) -> FileResult:
    path = tmp_path / name
    path.write_bytes(code.encode())
    return worker.extract_file(WorkItem(name, str(path), language, path.stat().st_size, 0))


CASES: list[Case] = []

# Decorated defs start at the `def` line; class-level and lower-case names are no constants.
CASES.append(
    Case(
        "python",
        "python",
        "service.py",
        symbols=[
            ("DEFAULT_TIMEOUT", "constant", 12, 12, None),
            ("Vector", "type", 15, 15, None),
            ("Repository", "class", 18, 37, None),
            ("__init__", "method", 21, 22, "Repository"),
            ("name", "method", 25, 26, "Repository"),
            ("fetch", "method", 29, 34, "Repository"),
            ("_key", "function", 30, 31, "Repository.fetch"),
            ("Meta", "class", 36, 37, "Repository"),
            ("main", "function", 40, 43, None),
        ],
        imports=[
            "__future__",
            "os",
            "os.path",
            "collections",
            "typing",
            "..core.models",
            ".",
            "json",
        ],
        code='''\
"""Repositories backed by a JSON file."""
from __future__ import annotations

import os
import os.path as osp
from collections import OrderedDict
from typing import TYPE_CHECKING, Generic, TypeVar

from ..core.models import Model
from . import errors

DEFAULT_TIMEOUT = 30
logger = None

type Vector = list[float]


class Repository(Generic[T]):
    MAX_ITEMS = 100

    def __init__(self, root: str) -> None:
        self.root = root

    @property
    def name(self) -> str:
        return osp.basename(self.root)

    @functools.cache
    async def fetch(self, key: str) -> T | None:
        def _key(k):
            return k.lower()

        cached = self._cache.get(_key(key))
        return cached

    class Meta:
        ordering = ("name",)


def main(argv: list[str]) -> int:
    import json
    handler = lambda e: None
    return 0
''',
    )
)


# JSX; CommonJS `require` and dynamic `import()`; arrow functions held by variables, class
# fields and exported properties; object-literal methods; locals that hold values are left out.
CASES.append(
    Case(
        "javascript",
        "javascript",
        "widget.jsx",
        symbols=[
            ("MAX_RETRIES", "constant", 8, 8, None),
            ("Widget", "class", 11, 27, None),
            ("constructor", "constructor", 13, 16, "Widget"),
            ("handleClick", "method", 17, 19, "Widget"),
            ("items", "method", 20, 22, "Widget"),
            ("render", "method", 23, 26, "Widget"),
            ("useToggle", "function", 29, 33, None),
            ("toggle", "function", 31, 31, "useToggle"),
            ("legacy", "function", 35, 37, None),
            ("get", "function", 39, 39, None),
        ],
        imports=["react", "node:path", "./widget.css", "./format.js", "fs", "path", "./lazy.js"],
        code="""\
import React, { useState } from "react";
import * as path from "node:path";
import "./widget.css";
export { formatDate } from "./format.js";
const fs = require("fs");
const { join } = require("path");

export const MAX_RETRIES = 3;
const cache = new Map();

export default class Widget extends React.Component {
  static defaultProps = { size: 1 };
  constructor(props) {
    super(props);
    this.state = { open: false };
  }
  handleClick = (event) => {
    this.setState({ open: true });
  };
  async *items() {
    yield* this.props.items;
  }
  render() {
    const label = this.props.label;
    return <button onClick={this.handleClick}>{label}</button>;
  }
}

export function useToggle(initial = false) {
  const [on, setOn] = useState(initial);
  const toggle = () => setOn((v) => !v);
  return [on, toggle];
}

module.exports.legacy = function (done) {
  import("./lazy.js").then(done);
};
const api = {
  get(url) { return fetch(url); },
};
""",
    )
)


# Interfaces, enums, namespaces, ambient modules, abstract members, overload signatures.
CASES.append(
    Case(
        "typescript",
        "typescript",
        "repo.ts",
        symbols=[
            ("DEFAULT_PAGE_SIZE", "constant", 6, 6, None),
            ("Handler", "type", 7, 7, None),
            ("Repository", "interface", 9, 12, None),
            ("find", "method", 10, 10, "Repository"),
            ("Status", "enum", 14, 14, None),
            ("express", "module", 16, 18, None),
            ("Request", "interface", 17, 17, "express"),
            ("Validation", "namespace", 20, 24, None),
            ("isId", "function", 21, 23, "Validation"),
            ("BaseService", "class", 27, 35, None),
            ("constructor", "constructor", 29, 29, "BaseService"),
            ("find", "method", 30, 30, "BaseService"),
            ("size", "method", 31, 31, "BaseService"),
            ("onError", "method", 32, 34, "BaseService"),
            ("paginate", "function", 37, 37, None),
            ("paginate", "function", 38, 40, None),
        ],
        imports=["express", "fs", "zod", "./types"],
        code="""\
import type { Request, Response } from "express";
import fs = require("fs");
import { z } from "zod";
export * from "./types";

export const DEFAULT_PAGE_SIZE = 20;
export type Handler<T> = (req: Request) => Promise<T>;

export interface Repository<T extends { id: string }> {
  find(id: string): Promise<T | undefined>;
  readonly size: number;
}

export enum Status { Active = "active", Archived = "archived" }

declare module "express" {
  interface Request { userId?: string }
}

export namespace Validation {
  export function isId(value: unknown): value is string {
    return typeof value === "string";
  }
}

@Injectable()
export abstract class BaseService<T> implements Repository<T> {
  private readonly cache = new Map<string, T>();
  constructor(protected readonly http: HttpClient) {}
  abstract find(id: string): Promise<T | undefined>;
  get size(): number { return this.cache.size; }
  private onError = (err: Error): void => {
    console.error(err);
  };
}

export function paginate<T>(items: T[], page: number): T[];
export function paginate<T>(items: T[], page = 0): T[] {
  return items.slice(page * DEFAULT_PAGE_SIZE);
}
""",
    )
)


# React components as arrow functions; callbacks passed to hooks are no symbols.
CASES.append(
    Case(
        "tsx",
        "tsx",
        "TodoList.tsx",
        symbols=[
            ("TodoListProps", "interface", 5, 8, None),
            ("Filter", "type", 10, 10, None),
            ("TodoList", "function", 12, 25, None),
            ("EmptyState", "function", 27, 29, None),
        ],
        imports=["react", "../types", "@/components/ui/checkbox"],
        code="""\
import React, { useCallback, useMemo } from "react";
import type { Todo } from "../types";
import { Checkbox } from "@/components/ui/checkbox";

export interface TodoListProps {
  todos: Todo[];
  onToggle?: (id: string) => void;
}

type Filter = "all" | "done" | "open";

export const TodoList: React.FC<TodoListProps> = ({ todos, onToggle }) => {
  const [filter, setFilter] = React.useState<Filter>("all");
  const visible = useMemo(() => todos.filter((t) => filter === "all" || t.done), [todos, filter]);
  const handleToggle = useCallback((id: string) => onToggle?.(id), [onToggle]);
  return (
    <ul>
      {visible.map((todo) => (
        <li key={todo.id}>
          <Checkbox checked={todo.done} onChange={() => handleToggle(todo.id)} />
        </li>
      ))}
    </ul>
  );
};

export default function EmptyState({ message }: { message: string }) {
  return <p className="empty">{message}</p>;
}
""",
    )
)


# Annotations belong to the definition's lines; anonymous-class methods nest in the method.
CASES.append(
    Case(
        "java",
        "java",
        "OrderService.java",
        symbols=[
            ("com.example.orders", "namespace", 1, 1, None),
            ("OrderService", "class", 8, 35, None),
            ("MAX_ITEMS", "constant", 9, 9, "OrderService"),
            ("OrderService", "constructor", 13, 15, "OrderService"),
            ("find", "method", 18, 24, "OrderService"),
            ("run", "method", 21, 21, "OrderService.find"),
            ("Node", "class", 26, 28, "OrderService"),
            ("Status", "enum", 30, 34, "OrderService"),
            ("isOpen", "method", 33, 33, "OrderService.Status"),
            ("Repository", "interface", 37, 40, None),
            ("PAGE_SIZE", "constant", 38, 38, "Repository"),
            ("find", "method", 39, 39, "Repository"),
            ("Money", "class", 42, 46, None),
            ("Money", "constructor", 43, 45, "Money"),
            ("Audited", "interface", 48, 50, None),
            ("value", "method", 49, 49, "Audited"),
        ],
        imports=["java.util.List", "java.util.concurrent", "java.util.Objects.requireNonNull"],
        code="""\
package com.example.orders;

import java.util.List;
import java.util.concurrent.*;
import static java.util.Objects.requireNonNull;

@Service
public class OrderService<T extends Order> implements Repository<T> {
    public static final int MAX_ITEMS = 100;
    private final Map<String, T> cache = new HashMap<>();

    @Autowired
    public OrderService(OrderRepository repo) {
        this.repo = requireNonNull(repo);
    }

    @Override
    public <R> Optional<R> find(String id) {
        Runnable task = new Runnable() {
            @Override
            public void run() {}
        };
        return Optional.empty();
    }

    private static final class Node<K> {
        Node<K> next;
    }

    public enum Status {
        OPEN, CLOSED;

        public boolean isOpen() { return this == OPEN; }
    }
}

interface Repository<T> {
    int PAGE_SIZE = 50;
    Optional<T> find(String id);
}

record Money(long cents, String currency) {
    Money {
        requireNonNull(currency);
    }
}

@interface Audited {
    String value() default "";
}
""",
    )
)

# module-info.java: the module is a symbol, the modules it requires are its imports.
CASES.append(
    Case(
        "java",
        "java",
        "module-info.java",
        symbols=[("com.example.app", "module", 2, 6, None)],
        imports=["java.sql", "com.example.util"],
        code="""\
/** The app. */
module com.example.app {
    requires java.sql;
    requires transitive com.example.util;
    exports com.example.app.api;
}
""",
    )
)


# A method's scope is its receiver's type; package-level const/var only.
CASES.append(
    Case(
        "go",
        "go",
        "store.go",
        symbols=[
            ("store", "namespace", 2, 2, None),
            ("MaxItems", "constant", 12, 12, None),
            ("ModeRead", "constant", 15, 15, None),
            ("ModeWrite", "constant", 16, 16, None),
            ("ErrNotFound", "variable", 19, 19, None),
            ("Mode", "type", 21, 21, None),
            ("Store", "struct", 23, 26, None),
            ("Getter", "interface", 28, 30, None),
            ("Get", "method", 29, 29, "Getter"),
            ("Alias", "type", 32, 32, None),
            ("New", "function", 34, 36, None),
            ("Get", "method", 38, 43, "Store"),
            ("String", "method", 45, 45, "Mode"),
        ],
        imports=["fmt", "context", "encoding/json", "github.com/lib/pq"],
        code="""\
// Package store keeps items in memory.
package store

import "fmt"

import (
	"context"
	stdjson "encoding/json"
	_ "github.com/lib/pq"
)

const MaxItems = 100

const (
	ModeRead Mode = iota
	ModeWrite
)

var ErrNotFound = fmt.Errorf("not found")

type Mode int

type Store[K comparable, V any] struct {
	mu    sync.Mutex
	items map[K]V
}

type Getter interface {
	Get(ctx context.Context, key string) (string, error)
}

type Alias = Store[string, int]

func New[K comparable, V any]() *Store[K, V] {
	return &Store[K, V]{items: map[K]V{}}
}

func (s *Store[K, V]) Get(key K) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.items[key]
	return v, ok
}

func (m Mode) String() string { return fmt.Sprint(int(m)) }
""",
    )
)


# `impl` blocks scope their items under the implementing type, generics and `&` dropped.
CASES.append(
    Case(
        "rust",
        "rust",
        "cache.rs",
        symbols=[
            ("parser", "module", 6, 6, None),
            ("MAX_DEPTH", "constant", 8, 8, None),
            ("COUNTER", "variable", 9, 9, None),
            ("Result", "type", 10, 10, None),
            ("Cache", "struct", 13, 15, None),
            ("Error", "enum", 17, 20, None),
            ("Store", "trait", 22, 26, None),
            ("Item", "type", 23, 23, "Store"),
            ("get", "method", 24, 24, "Store"),
            ("len", "method", 25, 25, "Store"),
            ("new", "method", 29, 32, "Cache"),
            ("Item", "type", 36, 36, "Cache"),
            ("get", "method", 37, 37, "Cache"),
            ("fmt", "method", 41, 41, "Error"),
            ("hashmap", "macro", 44, ANY, None),
            ("tests", "module", 49, 56, None),
            ("it_works", "function", 53, 55, "tests"),
            ("helper", "function", 54, 54, "tests.it_works"),
        ],
        imports=[
            "std::collections::HashMap",
            "std::io",
            "crate::config::Config",
            "super",
            "serde",
            "super::Cache",
        ],
        code="""\
use std::collections::HashMap;
use std::io::{self, Read};
use crate::config::Config as Cfg;
use super::*;
extern crate serde;
mod parser;

pub const MAX_DEPTH: usize = 64;
static COUNTER: AtomicUsize = AtomicUsize::new(0);
pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone)]
pub struct Cache<K: Hash + Eq, V> {
    map: HashMap<K, V>,
}

pub enum Error {
    Io(io::Error),
    Parse { line: usize },
}

pub trait Store {
    type Item;
    fn get(&self, key: &str) -> Option<Self::Item>;
    fn len(&self) -> usize { 0 }
}

impl<K: Hash + Eq, V> Cache<K, V> {
    pub fn new() -> Self {
        let map = HashMap::new();
        Self { map }
    }
}

impl<K, V> Store for Cache<K, V> {
    type Item = V;
    fn get(&self, _key: &str) -> Option<V> { None }
}

impl fmt::Display for &'_ Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { Ok(()) }
}

macro_rules! hashmap {
    ($($k:expr => $v:expr),*) => {{ HashMap::new() }};
}

#[cfg(test)]
mod tests {
    use super::Cache;

    #[test]
    fn it_works() {
        fn helper() {}
    }
}
""",
    )
)


# Prototypes, plain globals and include guards are left out; typedef'd anonymous structs
# take the typedef's name.
CASES.append(
    Case(
        "c",
        "c",
        "list.c",
        symbols=[
            ("LIST_MAX", "macro", 5, ANY, None),
            ("SQUARE", "macro", 6, ANY, None),
            ("node", "struct", 11, 14, None),
            ("node_t", "type", 14, 14, None),
            ("list_t", "struct", 16, 19, None),
            ("compare_fn", "type", 21, 21, None),
            ("number", "union", 22, 22, None),
            ("color", "enum", 23, 23, None),
            ("default_capacity", "constant", 25, 25, None),
            ("list_empty", "function", 29, 29, None),
            ("list_push", "function", 31, 36, None),
            ("main", "function", 38, 41, None),
        ],
        imports=["stdio.h", "stdlib.h", "list.h"],
        code="""\
#include <stdio.h>
#include <stdlib.h>
#include "list.h"

#define LIST_MAX 256
#define SQUARE(x) ((x) * (x))
#ifndef LIST_C_GUARD
#define LIST_C_GUARD
#endif

typedef struct node {
    int value;
    struct node *next;
} node_t;

typedef struct {
    node_t *head;
    size_t len;
} list_t;

typedef int (*compare_fn)(const void *a, const void *b);
union number { int i; double d; };
enum color { RED, GREEN, BLUE };

static const int default_capacity = 16;
int list_count;
list_t *list_new(void);

static inline int list_empty(const list_t *l) { return l->len == 0; }

node_t *list_push(list_t *l, int value)
{
    node_t *n = malloc(sizeof *n);
    n->value = value;
    return n;
}

int main(int argc, char **argv) {
    list_t *l = list_new();
    return list_empty(l) ? 0 : 1;
}
""",
    )
)


# In-class declarations and inline definitions; out-of-line `Buffer<T>::push` is a method of
# no class scope; lambdas are left out.
CASES.append(
    Case(
        "cpp",
        "cpp",
        "buffer.cpp",
        symbols=[
            ("ENGINE_LOG", "macro", 3, ANY, None),
            ("engine", "namespace", 5, 35, None),
            ("kDefaultSize", "constant", 7, 7, "engine"),
            ("Buffer", "class", 10, 21, "engine"),
            ("Buffer", "constructor", 12, 12, "engine.Buffer"),
            ("~Buffer", "method", 13, 13, "engine.Buffer"),
            ("push", "method", 14, 14, "engine.Buffer"),
            ("operator[]", "method", 15, 15, "engine.Buffer"),
            ("size", "method", 16, 16, "engine.Buffer"),
            ("Slot", "struct", 19, 19, "engine.Buffer"),
            ("Index", "type", 23, 23, "engine"),
            ("Mode", "enum", 24, 24, "engine"),
            ("Buffer", "constructor", 27, 27, "engine.Buffer"),
            ("push", "method", 30, 33, "engine.Buffer"),
            ("helper", "function", 38, 38, None),
        ],
        imports=["vector", "engine/buffer.hpp"],
        code="""\
#include <vector>
#include "engine/buffer.hpp"
#define ENGINE_LOG(msg) std::cerr << msg

namespace engine {

constexpr int kDefaultSize = 64;

template <typename T>
class Buffer : public Base<T> {
public:
    explicit Buffer(size_t n);
    ~Buffer() override;
    void push(const T& item);
    T& operator[](size_t i) { return data_[i]; }
    size_t size() const { return data_.size(); }

private:
    struct Slot { T value; };
    std::vector<T> data_;
};

using Index = std::size_t;
enum class Mode : int { Fast, Safe };

template <typename T>
Buffer<T>::Buffer(size_t n) : data_(n) {}

template <typename T>
void Buffer<T>::push(const T& item) {
    auto clamp = [](int v) { return v; };
    data_.push_back(item);
}

}  // namespace engine

namespace {
int helper() { return 1; }
}  // namespace
""",
    )
)


# Block-scoped namespace as the outer scope; properties and local functions.
CASES.append(
    Case(
        "csharp",
        "csharp",
        "OrderService.cs",
        symbols=[
            ("Acme.Orders", "namespace", 6, 35, None),
            ("OrderHandler", "type", 8, 8, "Acme.Orders"),
            ("OrderService", "class", 11, 25, "Acme.Orders"),
            ("MaxItems", "constant", 13, 13, "Acme.Orders.OrderService"),
            ("Name", "property", 15, 15, "Acme.Orders.OrderService"),
            ("OrderService", "constructor", 17, 17, "Acme.Orders.OrderService"),
            ("GetAsync", "method", 20, 24, "Acme.Orders.OrderService"),
            ("Double", "function", 22, 22, "Acme.Orders.OrderService.GetAsync"),
            ("IOrderService", "interface", 27, 30, "Acme.Orders"),
            ("GetAsync", "method", 29, 29, "Acme.Orders.IOrderService"),
            ("Money", "struct", 32, 32, "Acme.Orders"),
            ("Status", "enum", 33, 33, "Acme.Orders"),
            ("Order", "class", 34, 34, "Acme.Orders"),
        ],
        imports=["System", "System.Collections.Generic", "System.Math", "Newtonsoft.Json"],
        code="""\
using System;
using System.Collections.Generic;
using static System.Math;
using Json = Newtonsoft.Json;

namespace Acme.Orders
{
    public delegate void OrderHandler(Order order);

    [Serializable]
    public class OrderService<T> : IOrderService where T : class
    {
        public const int MaxItems = 50;
        private readonly ILogger _logger;
        public string Name { get; set; }

        public OrderService(ILogger logger) { _logger = logger; }

        [HttpGet("{id}")]
        public async Task<Order> GetAsync(int id)
        {
            int Double(int x) => x * 2;
            return await _repo.FindAsync(Double(id));
        }
    }

    public interface IOrderService
    {
        Task<Order> GetAsync(int id);
    }

    public struct Money { public decimal Amount; }
    public enum Status { Pending, Shipped }
    public record Order(int Id, string Customer);
}
""",
    )
)


# `def self.x`, `class << self` and `private def x` are methods of the class; `attr_accessor`
# names are properties.
CASES.append(
    Case(
        "ruby",
        "ruby",
        "invoice.rb",
        symbols=[
            ("Billing", "module", 6, 35, None),
            ("VERSION", "constant", 7, 7, "Billing"),
            ("Invoice", "class", 9, 34, "Billing"),
            ("total", "property", 11, 11, "Billing.Invoice"),
            ("initialize", "constructor", 13, 15, "Billing.Invoice"),
            ("build", "method", 17, 19, "Billing.Invoice"),
            ("registry", "method", 22, 24, "Billing.Invoice"),
            ("paid?", "method", 27, 29, "Billing.Invoice"),
            ("tax", "method", 31, 33, "Billing.Invoice"),
            ("Refund", "class", 37, 37, "Billing"),
            ("main", "function", 39, 41, None),
        ],
        imports=["json", "active_support/core_ext", "../lib/money", "billing/tax"],
        code="""\
require "json"
require 'active_support/core_ext'
require_relative "../lib/money"
autoload :Tax, "billing/tax"

module Billing
  VERSION = "1.2.0"

  class Invoice < ApplicationRecord
    include Comparable
    attr_accessor :total

    def initialize(total)
      @total = total
    end

    def self.build(**opts)
      new(opts[:total])
    end

    class << self
      def registry
        @registry ||= {}
      end
    end

    def paid?
      !!@paid
    end

    private def tax
      total * 0.2
    end
  end
end

class Billing::Refund < Billing::Invoice; end

def main
  puts Billing::Invoice.build(total: 3).tax
end
""",
    )
)


# Group `use` gives its prefix; `require __DIR__ . '/x'` gives the string part.
CASES.append(
    Case(
        "php",
        "php",
        "UserController.php",
        symbols=[
            ("App\\Http\\Controllers", "namespace", 4, 46, None),
            ("DEFAULT_LIMIT", "constant", 13, 13, "App\\Http\\Controllers"),
            ("Repository", "interface", 15, 18, "App\\Http\\Controllers"),
            ("find", "method", 17, 17, "App\\Http\\Controllers.Repository"),
            ("Loggable", "trait", 20, 23, "App\\Http\\Controllers"),
            ("log", "method", 22, 22, "App\\Http\\Controllers.Loggable"),
            ("Status", "enum", 25, 29, "App\\Http\\Controllers"),
            ("label", "method", 28, 28, "App\\Http\\Controllers.Status"),
            ("UserController", "class", 31, 44, "App\\Http\\Controllers"),
            ("PER_PAGE", "constant", 34, 34, "App\\Http\\Controllers.UserController"),
            ("__construct", "constructor", 37, 37, "App\\Http\\Controllers.UserController"),
            ("find", "method", 39, 43, "App\\Http\\Controllers.UserController"),
            ("helper", "function", 46, 46, "App\\Http\\Controllers"),
        ],
        imports=[
            "App\\Models\\User",
            "Illuminate\\Support\\Facades",
            "App\\Helpers\\format_money",
            "/../vendor/autoload.php",
            "helpers.php",
        ],
        code="""\
<?php
declare(strict_types=1);

namespace App\\Http\\Controllers;

use App\\Models\\User;
use Illuminate\\Support\\Facades\\{Cache, Log};
use function App\\Helpers\\format_money;

require_once __DIR__ . '/../vendor/autoload.php';
include 'helpers.php';

const DEFAULT_LIMIT = 20;

interface Repository
{
    public function find(int $id): ?User;
}

trait Loggable
{
    protected function log(string $msg): void { Log::info($msg); }
}

enum Status: string
{
    case Active = 'active';
    public function label(): string { return ucfirst($this->value); }
}

final class UserController extends Controller implements Repository
{
    use Loggable;
    public const PER_PAGE = 15;
    private array $cache = [];

    public function __construct(private readonly UserService $service) {}

    public function find(int $id): ?User
    {
        $double = fn($x) => $x * 2;
        return User::find($double($id));
    }
}

function helper(array $items): array { return $items; }
""",
    )
)


# Companion objects are scopes, not symbols: their members nest in the class.
CASES.append(
    Case(
        "kotlin",
        "kotlin",
        "UserRepository.kt",
        symbols=[
            ("com.example.users", "namespace", 1, 1, None),
            ("MAX_RETRIES", "constant", 7, 7, None),
            ("defaultScope", "property", 8, 8, None),
            ("UserMap", "type", 9, 9, None),
            ("UserRepository", "interface", 11, 13, None),
            ("find", "method", 12, 12, "UserRepository"),
            ("UserRepositoryImpl", "class", 16, 32, None),
            ("constructor", "constructor", 21, 21, "UserRepositoryImpl"),
            ("find", "method", 23, 26, "UserRepositoryImpl"),
            ("key", "function", 24, 24, "UserRepositoryImpl.find"),
            ("TAG", "constant", 29, 29, "UserRepositoryImpl"),
            ("create", "method", 30, 30, "UserRepositoryImpl"),
            ("Point", "class", 34, 34, None),
            ("Color", "enum", 36, 40, None),
            ("hex", "method", 39, 39, "Color"),
            ("second", "function", 42, 42, None),
        ],
        imports=["kotlinx.coroutines.flow.Flow", "java.util", "com.example.model.User"],
        code="""\
package com.example.users

import kotlinx.coroutines.flow.Flow
import java.util.*
import com.example.model.User as DomainUser

const val MAX_RETRIES = 3
val defaultScope = CoroutineScope(Dispatchers.IO)
typealias UserMap = Map<String, DomainUser>

interface UserRepository {
    suspend fun find(id: String): DomainUser?
}

@Singleton
class UserRepositoryImpl @Inject constructor(
    private val api: Api,
) : UserRepository {
    private val cache = mutableMapOf<String, DomainUser>()

    constructor(api: Api, seed: Int) : this(api)

    override suspend fun find(id: String): DomainUser? {
        fun key() = id.lowercase()
        return cache[key()]
    }

    companion object {
        const val TAG = "UserRepository"
        fun create(api: Api) = UserRepositoryImpl(api)
    }
}

data class Point(val x: Int, val y: Int)

enum class Color {
    RED, GREEN;

    fun hex(): String = name
}

fun <T> List<T>.second(): T = this[1]
""",
    )
)


# An `extension` scopes its members under the extended type without being a symbol.
CASES.append(
    Case(
        "swift",
        "swift",
        "ImageLoader.swift",
        symbols=[
            ("maxConcurrentLoads", "constant", 5, 5, None),
            ("Completion", "type", 6, 6, None),
            ("ImageCache", "interface", 8, 11, None),
            ("Key", "type", 9, 9, "ImageCache"),
            ("image", "method", 10, 10, "ImageCache"),
            ("ImageLoader", "class", 14, 30, None),
            ("shared", "constant", 15, 15, "ImageLoader"),
            ("init", "constructor", 18, 20, "ImageLoader"),
            ("image", "method", 22, 25, "ImageLoader"),
            ("cacheKey", "function", 23, 23, "ImageLoader.image"),
            ("State", "enum", 27, 29, "ImageLoader"),
            ("Size", "struct", 32, 35, None),
            ("+", "method", 38, 40, "Size"),
            ("loadAll", "function", 43, 43, None),
        ],
        imports=["Foundation", "UIKit.UIImage", "Gallery"],
        code="""\
import Foundation
import UIKit.UIImage
@testable import Gallery

let maxConcurrentLoads = 4
typealias Completion = (Result<Data, Error>) -> Void

protocol ImageCache {
    associatedtype Key: Hashable
    func image(for key: Key) -> UIImage?
}

@MainActor
final class ImageLoader: NSObject, ImageCache {
    static let shared = ImageLoader()
    private var tasks: [URL: Task<Void, Never>] = [:]

    init(session: URLSession = .shared) {
        super.init()
    }

    func image(for key: URL) -> UIImage? {
        func cacheKey() -> String { key.absoluteString }
        return nil
    }

    enum State {
        case idle, loading
    }
}

struct Size: Equatable {
    var width: Double
    var height: Double
}

extension Size {
    static func + (lhs: Size, rhs: Size) -> Size {
        Size(width: lhs.width + rhs.width, height: lhs.height + rhs.height)
    }
}

func loadAll(_ urls: [URL]) async throws -> [UIImage] { [] }
""",
    )
)


# Imports are whole declarations: the grammar has no node for the dotted path.
CASES.append(
    Case(
        "scala",
        "scala",
        "Orders.scala",
        symbols=[
            ("com.example.orders", "namespace", 1, 1, None),
            ("Repository", "trait", 6, 8, None),
            ("find", "method", 7, 7, "Repository"),
            ("Order", "class", 10, 12, None),
            ("total", "method", 11, 11, "Order"),
            ("Order", "class", 14, 19, None),
            ("MaxItems", "constant", 15, 15, "Order"),
            ("ordering", "property", 16, 16, "Order"),
            ("apply", "method", 17, 17, "Order"),
            ("Id", "type", 18, 18, "Order"),
            ("OrderService", "class", 21, 28, None),
            ("this", "constructor", 22, 22, "OrderService"),
            ("validate", "method", 24, 27, "OrderService"),
            ("nonEmpty", "function", 25, 25, "OrderService.validate"),
            ("Color", "enum", 30, 32, None),
            ("topLevel", "function", 34, 34, None),
        ],
        imports=["scala.concurrent", "scala.util.Try"],
        code="""\
package com.example.orders

import scala.concurrent.{ExecutionContext, Future}
import scala.util.Try

trait Repository[F[_], A] {
  def find(id: Long): F[Option[A]]
}

final case class Order(id: Long, items: List[Item]) {
  def total: BigDecimal = items.map(_.price).sum
}

object Order {
  val MaxItems = 100
  implicit val ordering: Ordering[Order] = Ordering.by(_.id)
  def apply(id: Long): Order = new Order(id, Nil)
  type Id = Long
}

class OrderService(repo: Repository[Future, Order])(implicit ec: ExecutionContext) {
  def this() = this(null)(null)

  private def validate(o: Order): Boolean = {
    def nonEmpty = o.items.nonEmpty
    nonEmpty
  }
}

enum Color {
  case Red, Green
}

def topLevel(x: Int): Int = x
""",
    )
)


# Upper-case top-level assignments are constants; lower-case ones and locals are not.
CASES.append(
    Case(
        "bash",
        "bash",
        "deploy.sh",
        symbols=[
            ("VERSION", "constant", 7, 7, None),
            ("DEPLOY_DIR", "constant", 8, 8, None),
            ("LOG_FILE", "constant", 9, 9, None),
            ("log", "function", 12, 14, None),
            ("retry", "function", 16, 23, None),
            ("backoff", "function", 18, 18, "retry"),
            ("main", "function", 25, 28, None),
        ],
        imports=["./lib/common.sh", "$HOME/.config/deploy.env"],
        code="""\
#!/usr/bin/env bash
set -euo pipefail

source ./lib/common.sh
. "$HOME/.config/deploy.env"

readonly VERSION="1.4.2"
export DEPLOY_DIR=/opt/app
LOG_FILE=/tmp/deploy.log
count=0

log() {
  echo "[$(date)] $*" >>"$LOG_FILE"
}

function retry {
  local attempts=0
  backoff() { sleep $((attempts * 2)); }
  until "$@"; do
    attempts=$((attempts + 1))
    backoff
  done
}

main() {
  log "deploying $VERSION"
  retry rsync -a build/ "$DEPLOY_DIR"
}

main "$@"
""",
    )
)


# Objective-C: classes, protocols, methods by selector, properties; a category, a class
# extension and an @implementation are scopes; `typedef NS_ENUM(...)` is the enum it declares;
# C as in c.scm.
CASES.append(
    Case(
        "objc",
        "objc",
        "RCTView.m",
        symbols=[
            ("RCTLogLevel", "enum", 8, 11, None),
            ("RCT_MAX_DEPTH", "macro", 12, ANY, None),
            ("RCTBridgeDelegate", "interface", 14, 18, None),
            ("sourceURLForBridge:", "method", 15, 15, "RCTBridgeDelegate"),
            ("loadSourceForBridge:onProgress:", "method", 17, 17, "RCTBridgeDelegate"),
            ("RCTView", "class", 20, 24, None),
            ("name", "property", 21, 21, "RCTView"),
            ("onTap", "property", 22, 22, "RCTView"),
            ("initWithFrame:bridge:", "method", 23, 23, "RCTView"),
            ("layoutIfNeeded", "method", 27, 27, "RCTView"),
            ("initWithFrame:bridge:", "method", 31, 34, "RCTView"),
            ("requiresMainQueueSetup", "method", 36, 36, "RCTView"),
            ("RCTLogInfo", "function", 39, 39, None),
        ],
        imports=["Foundation/Foundation.h", "RCTBridge.h", "UIKit"],
        code="""\
#import <Foundation/Foundation.h>
#import "RCTBridge.h"
@import UIKit;

NS_ASSUME_NONNULL_BEGIN

@class RCTBridge;
typedef NS_ENUM(NSInteger, RCTLogLevel) {
  RCTLogLevelInfo = 1,
  RCTLogLevelError = 2,
};
#define RCT_MAX_DEPTH 10

@protocol RCTBridgeDelegate <NSObject>
- (NSURL *)sourceURLForBridge:(RCTBridge *)bridge;
@optional
- (void)loadSourceForBridge:(RCTBridge *)bridge onProgress:(id)onProgress;
@end

@interface RCTView : UIView <RCTBridgeDelegate>
@property (nonatomic, copy) NSString *name;
@property (nonatomic, copy, nullable) void (^onTap)(void);
- (instancetype)initWithFrame:(CGRect)frame bridge:(RCTBridge *)bridge;
@end

@interface RCTView ()
- (void)layoutIfNeeded NS_REQUIRES_SUPER;
@end

@implementation RCTView
- (instancetype)initWithFrame:(CGRect)frame bridge:(RCTBridge *)bridge
{
  return [super initWithFrame:frame];
}

+ (BOOL)requiresMainQueueSetup { return YES; }
@end

void RCTLogInfo(NSString *message) {}

NS_ASSUME_NONNULL_END
""",
    )
)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_symbols_and_imports(tmp_path: Path, case: Case) -> None:
    result = extract(tmp_path, case.filename, case.language, case.code)
    assert result.status == "ok", result.parse_errors
    assert [tuple(s) for s in result.symbols] == case.symbols
    assert [i.module for i in result.imports] == case.imports


def test_every_language_has_a_case() -> None:
    assert sorted({c.language for c in CASES}) == sorted(LANGUAGES)


def test_every_language_has_a_query() -> None:
    assert set(LANGUAGES) <= tags.query_languages()


def test_tsx_query_is_the_typescript_query() -> None:
    assert tags.query_source("tsx") == tags.query_source("typescript")


def _patterns(query: ts.Query, source: str) -> list[str]:
    data = source.encode()
    return [
        data[query.start_byte_for_pattern(i) : query.end_byte_for_pattern(i)].decode()
        for i in range(query.pattern_count)
    ]


@pytest.mark.parametrize("language", sorted(tags.query_languages()))
def test_query_compiles_and_uses_only_contract_captures(language: str) -> None:
    source = tags.query_source(language)
    assert source is not None
    # Compiled afresh: a query that does not compile raises here.
    query = ts.Query(tslp.get_language(language), source)  # type: ignore[arg-type]
    assert query.pattern_count > 0
    names = {query.capture_name(i) for i in range(query.capture_count)}
    for name in names:
        role, _, kind = name.partition(".")
        if name in ("name", "import.module", "ignore", "items", "items.nested"):
            continue
        if name.startswith("_"):
            continue  # `_`-prefixed captures only feed predicates such as #eq?
        if role == "definition":
            assert kind in SYMBOL_KINDS, f"{language}: unknown symbol kind @{name}"
        elif role == "scope":
            assert kind in tags.CLASS_LIKE, f"{language}: @{name} is no class-like scope"
        else:
            raise AssertionError(f"{language}: capture @{name} is not part of the contract")
    # Every definition or scope pattern names what it defines.
    for pattern in _patterns(query, source):
        if re.search(r"@(definition\.|scope\.|ignore\b)", pattern):
            assert re.search(r"@name\b", pattern), f"{language}: no @name in {pattern}"


def test_a_query_that_does_not_compile_is_an_error() -> None:
    with pytest.raises(ts.QueryError):
        ts.Query(tslp.get_language("rust"), "(no_such_node) @definition.function")


def test_query_files_ship_with_the_package() -> None:
    files = resources.files("snake_pipe.parse").joinpath("queries")
    shipped = {p.name for p in files.iterdir() if p.name.endswith(".scm")}
    wanted = {tags.QUERY_ALIASES.get(lang, lang) for lang in LANGUAGES}
    assert {f"{lang}.scm" for lang in wanted} <= shipped
    assert set(LANGUAGES) <= tags.query_languages()


def test_empty_and_broken_files_yield_no_garbage(tmp_path: Path) -> None:
    for language in LANGUAGES:
        empty = extract(tmp_path, f"empty.{language}", language, "")
        assert (empty.symbols, empty.imports) == ([], [])
        broken = extract(tmp_path, f"broken.{language}", language, "class def ( { import\n")
        assert all(s.name for s in broken.symbols), (language, broken.symbols)


def test_cpp_functions_wherever_the_parser_puts_them(tmp_path: Path) -> None:
    """A plain-named function is a constructor directly in a class body and a function
    anywhere else: in `extern "C"`, under a template, or in an ERROR node that a macro the
    grammar cannot know left behind."""
    code = """\
extern "C" { int c_entry(void) { return 0; } }
template <typename T> T twice(T x) { return x + x; }
struct Point { Point() {} int x; };
EXPORT_API class Widget { int size() const { return 1; } };
"""
    result = extract(tmp_path, "f.cpp", "cpp", code)
    found = {(s.name, s.kind) for s in result.symbols}
    assert {("c_entry", "function"), ("twice", "function"), ("Point", "constructor")} <= found
    assert ("Point", "function") not in found
    assert any(name == "size" for name, _ in found), result.symbols


def test_cpp_parents_and_declarator_wrappers(tmp_path: Path) -> None:
    """What `#parent-type?` and the wildcard wrappers in cpp.scm must keep apart: constants at
    namespace level only; a type-less function outside a class body (gtest's `TEST`) is no
    constructor but a macro call, named by the whole call; a macro call the grammar reads as a
    declarator names nothing; a class defined under two qualifiers is found."""
    code = """\
const int kTop = 1;
namespace ns { constexpr int kInner = 2; }
int f() { const int local = 3; return local; }
TEST(Suite, Case) { }
struct Outer { struct Mid { struct Leaf; }; };
struct Outer::Mid::Leaf { void go(); };
int* MACRO_NAME(make)(int x) { return 0; }
int& Foo::at(int i) { return data[i]; }
"""
    result = extract(tmp_path, "w.cpp", "cpp", code)
    assert [(s.name, s.kind, s.start_line, s.scope) for s in result.symbols] == [
        ("kTop", "constant", 1, None),
        ("ns", "namespace", 2, None),
        ("kInner", "constant", 2, "ns"),
        ("f", "function", 3, None),
        ("TEST(Suite, Case)", "function", 4, None),
        ("Outer", "struct", 5, None),
        ("Mid", "struct", 5, "Outer"),
        ("Leaf", "struct", 6, None),
        ("go", "method", 6, "Leaf"),
        ("at", "method", 8, "Foo"),
    ]


def test_conditional_compilation_that_breaks_the_grammar(tmp_path: Path) -> None:
    """Swift's `#if` as a type's first member closed the class at once, its methods came out
    as top-level functions; C#'s `#if` in a parameter list made errors. Such a file is parsed
    again with the directive lines blank (every branch kept) when that has fewer errors."""
    swift = ("class Manager {\n#if os(iOS)\n  func a() {}\n#else\n  func a(x: Int) {}\n"
             "#endif\n  func b() {}\n}\n")  # fmt: skip
    found = extract(tmp_path, "m.swift", "swift", swift)
    assert found.status == "ok"
    assert [(s.name, s.kind, s.start_line, s.end_line, s.scope) for s in found.symbols] == [
        ("Manager", "class", 1, 8, None), ("a", "method", 3, 3, "Manager"),
        ("a", "method", 5, 5, "Manager"), ("b", "method", 7, 7, "Manager"),
    ]  # fmt: skip
    cs = ("class F {\n  void Add(ref int o\n#if TRACE\n    , string t\n#endif\n  ) {}\n"
          "  void Run() {}\n}\n")  # fmt: skip
    found = extract(tmp_path, "f.cs", "csharp", cs)
    assert found.status == "ok"
    assert [(s.name, s.start_line, s.end_line) for s in found.symbols] == [
        ("F", 1, 8), ("Add", 2, 6), ("Run", 7, 7)
    ]  # fmt: skip
    # a file that parses whole keeps its first tree; one no better blanked keeps its errors
    assert languages.second_reading("swift", b"#if A\nlet x = 1\n#endif\n") is not None
    assert languages.second_reading("python", b"#if A\n") is None
    broken = extract(tmp_path, "b.swift", "swift", "#if A\nclass {\n#endif\n")
    assert broken.status == "syntax_error" and broken.parse_errors


def test_statement_macros_alone_on_a_line(tmp_path: Path) -> None:
    """Qt's `Q_OBJECT`, `Q_PROPERTY(...)`, `Q_DISABLE_COPY(...)` and CPython's
    `Py_BEGIN_ALLOW_THREADS`, each alone on its line without `;`: the members after them are
    found and the file parses; a return-type macro before a function head is kept."""
    header = """\
class Widget : public QWidget
{
    Q_OBJECT

    Q_PROPERTY(QRect area READ area NOTIFY areaChanged)
public:
    explicit Widget(QWidget *parent = nullptr);
    QRect area() const;
private:
    Q_DISABLE_COPY(Widget)
};
"""
    result = extract(tmp_path, "widget.h", "cpp", header)
    assert result.syntax_error_count == 0
    assert [(s.name, s.kind, s.scope) for s in result.symbols] == [
        ("Widget", "class", None),
        ("Widget", "constructor", "Widget"),
        ("area", "method", "Widget"),
    ]
    module = """\
static PyObject *
wait(PyObject *self)
{
    int ret;
    Py_BEGIN_ALLOW_THREADS
    ret = pause();
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(ret);
}

PyMODINIT_FUNC
PyInit_waiter(void)
{
    return NULL;
}
"""
    result = extract(tmp_path, "waiter.c", "c", module)
    assert result.syntax_error_count == 0
    assert [(s.name, s.kind) for s in result.symbols] == [
        ("wait", "function"), ("PyInit_waiter", "function")
    ]  # fmt: skip
    # each line of a run has one way to match: many blank lines after a macro cost no
    # backtracking (three ways a line would take 3**40 tries here)
    stuffed = b"{\nA_B\n" + b"  \n" * 40 + b"+x"
    assert languages.as_read("cpp", stuffed) == stuffed


def test_cpp_macros_the_grammar_cannot_know(tmp_path: Path) -> None:
    """Export, namespace and attribute macros of real C++ (abseil, BoringSSL, googletest): the
    class or namespace behind them is found, with its members' scopes; a macro is never a
    method, a constructor or a test's name, also after an out-of-line definition."""
    header = """\
namespace absl {
ABSL_NAMESPACE_BEGIN
namespace internal {
class OPENSSL_EXPORT Parser {
 public:
  bool Next(int x);
};
struct GTEST_API_ Info : public Base {
  void Lock() ABSL_LOCKS_EXCLUDED(mu_) { }
};
class Table {
  Table();
  int* head ABSL_GUARDED_BY(mu_);
  int Get() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
};
}
ABSL_NAMESPACE_END
}
"""
    result = extract(tmp_path, "m.h", "cpp", header)
    assert [(s.name, s.kind, s.scope) for s in result.symbols] == [
        ("absl", "namespace", None),
        ("internal", "namespace", "absl"),
        ("Parser", "class", "absl.internal"),
        ("Next", "method", "absl.internal.Parser"),
        ("Info", "struct", "absl.internal"),
        ("Lock", "method", "absl.internal.Info"),
        ("Table", "class", "absl.internal"),
        ("Table", "constructor", "absl.internal.Table"),
        ("Get", "method", "absl.internal.Table"),
    ]
    test = "TEST_P(LongSuiteName,\n       LongCaseName) {\n  EXPECT_EQ(1, 1);\n}\n"
    result = extract(tmp_path, "m_test.cc", "cpp", test)
    assert [(s.name, s.kind) for s in result.symbols] == [
        ("TEST_P(LongSuiteName, LongCaseName)", "function")
    ]
    source = """\
void Mutex::Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
  Acquire();
}
void Mutex::AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK {
}
static int Count(int a) ABSL_LOCKS_EXCLUDED(mu) {
  return a;
}
int ABSL_ATTRIBUTE_SECTION_VARIABLE(.text.hot) hot_func() { return 0; }
"""
    result = extract(tmp_path, "mutex.cc", "cpp", source)
    assert [(s.name, s.kind, s.start_line, s.end_line) for s in result.symbols] == [
        ("Lock", "method", 1, 3),
        ("AssertHeld", "method", 4, 5),
        ("Count", "function", 6, 8),
        ("hot_func", "function", 9, 9),
    ]
    # a namespace macro line before something other than a namespace
    source = """\
namespace absl {
ABSL_NAMESPACE_BEGIN
template <typename T>
class StatusOr {
  void m() {}
};
ABSL_NAMESPACE_END
}  // namespace absl
G_BEGIN_DECLS
constexpr int kX = 1;
G_END_DECLS
"""
    result = extract(tmp_path, "statusor.h", "cpp", source)
    assert result.status == "ok"
    assert [(s.name, s.kind, s.start_line, s.scope) for s in result.symbols] == [
        ("absl", "namespace", 1, None),
        ("StatusOr", "class", 4, "absl"),
        ("m", "method", 5, "absl.StatusOr"),
        ("kX", "constant", 10, None),
    ]
    # two macros, an empty body, a macro after a pointer-returning method, a specialisation
    source = """\
class ABSL_LOCKABLE ABSL_ATTRIBUTE_WARN_UNUSED Mutex : public Base {
  void Lock() {}
};
class Holder {
  Mutex* mu() ABSL_LOCK_RETURNED(mu_) { return &mu_; }
};
class OPENSSL_EXPORT Empty : public Base {};
template <>
int Parse<int>(const char* s) { return 0; }
"""
    result = extract(tmp_path, "mutex.h", "cpp", source)
    assert [(s.name, s.kind, s.start_line, s.scope) for s in result.symbols] == [
        ("Mutex", "class", 1, None),
        ("Lock", "method", 2, "Mutex"),
        ("Holder", "class", 4, None),
        ("mu", "method", 5, "Holder"),
        ("Empty", "class", 7, None),
        ("Parse", "function", 9, None),
    ]
    # members of a class behind an export macro (googletest, BoringSSL, fmt): constructors and
    # destructors, a macro before a constructor or a return type, one after a method,
    # conversion operators; an export block's macro line, also on the first line
    source = """\
FMT_BEGIN_EXPORT
class GTEST_API_ Parser
{
 public:
  Parser(long a) {}
  explicit Parser(int a);
  ~Parser() {}
  FMT_CONSTEXPR Parser() : a_(0) {}
  GRPC_MUST_USE_RESULT Code GetCode() const {
    return 1;
  }
  pointer data() ABSL_ATTRIBUTE_LIFETIME_BOUND { return p_; }
  explicit operator bool() const { return true; }
};
Parser::operator int() const { return 0; }
FMT_END_EXPORT
FMT_MODULE_EXPORT_BEGIN
template <typename Char> class V {
  V(const Char* s) : data_(s) {}
};
"""
    result = extract(tmp_path, "parser.h", "cpp", source)
    assert [(s.name, s.kind, s.start_line, s.scope) for s in result.symbols] == [
        ("Parser", "class", 2, None),
        ("Parser", "constructor", 5, "Parser"),
        ("Parser", "constructor", 6, "Parser"),
        ("~Parser", "method", 7, "Parser"),
        ("Parser", "constructor", 8, "Parser"),
        ("GetCode", "method", 9, "Parser"),
        ("data", "method", 12, "Parser"),
        ("operator bool", "method", 13, "Parser"),
        ("operator int", "method", 15, "Parser"),
        ("V", "class", 18, None),
        ("V", "constructor", 19, "V"),
    ]


def test_c_family_export_macros_and_extern_c(tmp_path: Path) -> None:
    """Export and inline macros before a declaration (Highway, googletest, numpy's C) and a C
    header's `extern "C"` block: the file parses without errors and an operator stays a free
    function, not a method of its return type; a type in capitals followed by a calling
    convention keeps a type."""
    cpp = """\
namespace hwy {
template <typename T>
HWY_API T GetLane(const Vec128<T> v) {
  return v.raw;
}
static HWY_INLINE HWY_MAYBE_UNUSED bool IsConstant(int x) { return x; }
template <typename T, size_t N>
HWY_API Vec128<T, N> operator+(Vec128<T, N> a, Vec128<T, N> b) { return a; }
class GTEST_API_ Test {
 public:
  Q_INVOKABLE void Run();
  ABSL_MUST_USE_RESULT static Test* Make(int n) { return nullptr; }
};
GTEST_API_ void InitGoogleTest();
DWORD WINAPI Worker(void* arg) { return 0; }
}  // namespace hwy
"""
    result = extract(tmp_path, "ops.h", "cpp", cpp)
    assert result.status == "ok", result.parse_errors
    assert [(s.name, s.kind, s.start_line, s.scope) for s in result.symbols] == [
        ("hwy", "namespace", 1, None),
        ("GetLane", "function", 3, "hwy"),
        ("IsConstant", "function", 6, "hwy"),
        ("operator+", "function", 8, "hwy"),
        ("Test", "class", 9, "hwy"),
        ("Run", "method", 11, "hwy.Test"),
        ("Make", "method", 12, "hwy.Test"),
        ("Worker", "function", 15, "hwy"),
    ]
    c = """\
NPY_NO_EXPORT PyObject *
PyArray_Foo(PyObject *self)
{
    return NULL;
}
static NPY_INLINE int
npy_fast(int a) { return a; }
"""
    result = extract(tmp_path, "array.c", "c", c)
    assert result.status == "ok", result.parse_errors
    assert [(s.name, s.kind, s.start_line, s.end_line) for s in result.symbols] == [
        ("PyArray_Foo", "function", 1, 5), ("npy_fast", "function", 6, 7)
    ]  # fmt: skip
    # a C header's `extern "C"` lines, when they pair up
    header = """\
#ifndef A_H
#define A_H
#ifdef __cplusplus
extern "C" {
#endif
struct point { int x; };
int area(void);
#if defined(__cplusplus)
}  /* extern "C" */
#endif /* __cplusplus */
#endif
"""
    result = extract(tmp_path, "a.h", "c", header)
    assert result.status == "ok", result.parse_errors
    assert [(s.name, s.kind, s.start_line) for s in result.symbols] == [("point", "struct", 6)]
    unpaired = header.replace("}  /* extern", "#endif\n#ifdef X\n}  /* extern")
    assert extract(tmp_path, "b.h", "c", unpaired).status == "syntax_error"


def test_forms_from_unseen_packages(tmp_path: Path) -> None:
    """Forms a review found in numpy, pillow, vue, three, rxjs and lottie: Python type aliases
    and type variables are types, a `def _` (singledispatch) is a function, a relative import
    loses its spaces; JavaScript's descriptors in every form give nothing, methods of a
    prototype (also of a dotted owner, also assigned as an object) are its class's, computed
    method names count, a quoted key is named by its whole text."""
    python = """\
from typing import TypeAlias, TypeVar
from . factory import make
_Tuple3f: TypeAlias = tuple[float, float, float]
T = TypeVar("T")
UserId = typing.NewType("UserId", int)
MAX = 10

@to_ir.register
def _(node: int) -> None: ...
_ = 1
"""
    found = extract(tmp_path, "a.py", "python", python)
    assert [(s.name, s.kind, s.start_line) for s in found.symbols] == [
        ("_Tuple3f", "type", 3), ("T", "type", 4), ("UserId", "type", 5), ("MAX", "constant", 6),
        ("_", "function", 9),
    ]  # fmt: skip
    assert [i.module for i in found.imports] == ["typing", ".factory"]
    js = """\
Object.defineProperty(this, "x", { get() { return 1; }, set(v) {} });
Object.defineProperties(this, { y: { get: function () { return 1; } }, z: { value() {} } });
var p = Object.create(Base.prototype, { w: { get() { return 2; } } });
var cache = { get(key) { return 1; }, set(key, v) {} };
sre.DynamicProperties.prototype.getOrder = function () {};
AudioController.prototype = { addAudio: function (a) {}, pause() {} };
class V { *[Symbol.iterator]() { yield 1; } }
var keys = { "a\\b": function () {} };
"""
    for language, name in (("javascript", "a.js"), ("typescript", "a.ts")):
        found = extract(tmp_path, name, language, js)
        assert [(s.name, s.kind, s.start_line, s.scope) for s in found.symbols] == [
            ("get", "function", 4, None), ("set", "function", 4, None),
            ("getOrder", "method", 5, "DynamicProperties"),
            ("addAudio", "method", 6, "AudioController"),
            ("pause", "method", 6, "AudioController"),
            ("V", "class", 7, None), ("[Symbol.iterator]", "method", 7, "V"),
            ("a\\b", "function", 8, None),
        ], language  # fmt: skip


def test_constants_and_sources_from_debian_packages(tmp_path: Path) -> None:
    """Forms a review found in rake, rack, activesupport, openjdk and devscripts: Ruby
    constants under a condition, in a `begin`, in a multiple assignment and holding a
    heredoc; a Java field is a
    constant only when static and final; Bash's `A=1 B=2`, `. $file` and extended globs."""
    ruby = """\
module M
  ORIG = 1 unless defined?(ORIG)
  MAJOR, MINOR, *OTHER = "1.2".split(".")
  begin
    C = Cgi::Cookie
  rescue LoadError
  end
end
"""
    found = extract(tmp_path, "m.rb", "ruby", ruby)
    assert [(s.name, s.kind, s.start_line, s.scope) for s in found.symbols] == [
        ("M", "module", 1, None), ("ORIG", "constant", 2, "M"), ("MAJOR", "constant", 3, "M"),
        ("MINOR", "constant", 3, "M"), ("OTHER", "constant", 3, "M"), ("C", "constant", 5, "M"),
    ]  # fmt: skip
    # a constant holding a heredoc ends with it (rack's 268-line TEMPLATE)
    heredoc = "module M\n  TPL = <<-HTML\n  <p>x</p>\nHTML\n  X = ERB.new(<<~A)\n  a\n  A\nend\n"
    found = extract(tmp_path, "t.rb", "ruby", heredoc)
    assert [(s.name, s.start_line, s.end_line) for s in found.symbols] == [
        ("M", 1, 8), ("TPL", 2, 4), ("X", 5, 7)
    ]  # fmt: skip
    java = """\
class J {
    private static Object CACHE;
    private final String NAME = "x";
    public static final int MAX = 1;
    final static long SERIAL = 1L;
}
"""
    found = extract(tmp_path, "J.java", "java", java)
    assert [(s.name, s.kind) for s in found.symbols] == [
        ("J", "class"), ("MAX", "constant"), ("SERIAL", "constant")
    ]  # fmt: skip
    bash = 'MODE=1 LEVEL=2\n[ -r $file ] && . $file\nsource ${CONF}\n'
    found = extract(tmp_path, "a.sh", "bash", bash)
    assert [(s.name, s.kind) for s in found.symbols] == [("MODE", "constant"), ("LEVEL", "constant")]
    assert [i.module for i in found.imports] == ["$file", "${CONF}"]
    # bash-completion's scripts have no extension or shebang, only an Emacs mode line
    found = extract(tmp_path, "ssh", None, "# ssh(1) completion  -*- shell-script -*-\n_ssh() { :; }\n")
    assert (found.language, [s.name for s in found.symbols]) == ("bash", ["_ssh"])
    # bash-completion's extended globs, which the grammar reads as an error to the end
    completion = "_f() {\n  [[ $cur == @(*/|[.~])* ]] || return\n}\n_g() { :; }\n"
    found = extract(tmp_path, "c.bash", "bash", completion)
    assert found.status == "ok"
    assert [(s.name, s.start_line, s.end_line) for s in found.symbols] == [("_f", 1, 3), ("_g", 4, 4)]


def test_small_forms_of_real_code(tmp_path: Path) -> None:
    """Idioms found in real packages: dokuwiki's `require_once(DOKU_INC . 'x.php')`,
    lodash's `var f = (function f() {})`, Go's `var _ I = (*T)(nil)` (names nothing), C#'s
    generic alias `using A = B<C>;` (keeps its brackets, which C's `#include <a.h>` loses)."""
    php = extract(tmp_path, "a.php", "php", "<?php\nrequire_once(DOKU_INC.'inc/init.php');\n")
    assert [i.module for i in php.imports] == ["inc/init.php"]
    js = extract(tmp_path, "a.js", "javascript", "var run = (function run(c) {\n});\n")
    assert [(s.name, s.kind) for s in js.symbols] == [("run", "function")]
    code = 'var f;\nf = function (x) {};\nvar o = {"catch": function () {}, then: () => 1};\n'
    for language, name in (("javascript", "a.js"), ("typescript", "a.ts")):
        found = extract(tmp_path, name, language, code).symbols
        assert [(s.name, s.kind) for s in found] == [
            ("f", "function"), ("catch", "function"), ("then", "function")
        ]  # fmt: skip
    cpp = extract(tmp_path, "f.h", "cpp", "class F {\n  template <class T> F(const T& f) : x_(f) {}\n"
                  "  template <class T> explicit F(T* p);\n};\n")  # fmt: skip
    assert [(s.name, s.kind) for s in cpp.symbols] == [
        ("F", "class"), ("F", "constructor"), ("F", "constructor")
    ]  # fmt: skip
    cpp = extract(tmp_path, "re2.cc", "cpp", "namespace n {\nRE2::RE2(const char* p) {}\n}\n")
    assert [(s.name, s.kind, s.scope) for s in cpp.symbols] == [
        ("n", "namespace", None), ("RE2", "constructor", "n.RE2")
    ]  # fmt: skip
    cpp = extract(tmp_path, "n.h", "cpp", "namespace a::inline b::c {\nstruct S { void f(); };\n}\n"
                  "void x::Y::Z::g() {}\n")  # fmt: skip
    assert [(s.name, s.kind, s.scope) for s in cpp.symbols] == [
        ("c", "namespace", "a.b"), ("S", "struct", "a.b.c"), ("f", "method", "a.b.c.S"),
        ("g", "method", "x.Y.Z"),
    ]  # fmt: skip
    rs = extract(tmp_path, "a.rs", "rust", "impl AsRef<str> for &str {\n    fn as_ref(&self) {}\n}\n")
    assert [(s.name, s.scope) for s in rs.symbols] == [("as_ref", "str")]
    ts = extract(tmp_path, "a.d.ts", "typescript", "declare class A {\n  constructor(x: T);\n}\n")
    assert [(s.name, s.kind, s.scope) for s in ts.symbols] == [
        ("A", "class", None), ("constructor", "constructor", "A")
    ]  # fmt: skip
    go = extract(tmp_path, "a.go", "go", "package p\nvar _ io.Writer = (*T)(nil)\nvar X = 1\n")
    assert [s.name for s in go.symbols] == ["p", "X"]
    # an anonymous interface type's methods are no symbols; a named interface's are
    code = "package p\nfunc F(r interface{ Push(int) }) {}\ntype I interface{ M() }\n"
    go = extract(tmp_path, "a.go", "go", code)
    assert [(s.name, s.kind) for s in go.symbols] == [
        ("p", "namespace"), ("F", "function"), ("I", "interface"), ("M", "method")
    ]  # fmt: skip
    cs = extract(tmp_path, "a.cs", "csharp", "using M = Maybe<Method>;\nusing System;\n")
    assert [i.module for i in cs.imports] == ["Maybe<Method>", "System"]
    # a NUL past git's binary sniff: U+FFFD in every sink, since PostgreSQL's text has no NUL
    js = extract(tmp_path, "n.js", "javascript", "//" + "x" * 8000 + '\nimport x from "a\0b";\n')
    assert [i.module for i in js.imports] == ["a\ufffdb"]
    c = extract(tmp_path, "a.c", "c", '#include <stdio.h>\n#include "a/b.h"\n')
    assert [i.module for i in c.imports] == ["stdio.h", "a/b.h"]


def test_class_expressions_pointer_typedefs_and_statement_macros(tmp_path: Path) -> None:
    """Forms a review found in @tanstack/query-core, expo-notifications, react-native-screens,
    lz4, cffi, psutil and pybind11: a class expression assigned to a variable (as bundlers emit
    every class) is a class named by the variable, holding its methods; SWC's re-exports
    (`_export(exports, {get f () {...}})`) are no functions, and a compiler's helper that
    replaces itself (Babel's lazy `_fs` and `_interopRequireWildcard`) is defined once; a
    typedef of a function pointer that returns a pointer is a type; a statement macro without
    its `;` (psutil's `Py_BEGIN_ALLOW_THREADS`) leaves no function named `if` or `while`; a
    macro call with a body that the grammar runs over statements (pybind11's
    `PYBIND11_OVERRIDE(int, B, f, );`) gives no name holding them."""
    js = (
        "var FocusManager = class extends Subscribable {\n  constructor() {\n    super();\n  }\n"
        "  #onFocus() {}\n};\nconst MAX = class {};\n"
    )
    compiled = """\
_export(exports, {
    get dpiValues () {
        return dpiValues;
    }
});
function _fs() {
    const data = require("fs");
    _fs = function() {
        return data;
    };
    return data;
}
function _interopRequireWildcard(e) { return (_interopRequireWildcard = function (e) {})(e); }
var cache = { get size() { return 0; } };
"""
    for language, name in (("javascript", "a.js"), ("typescript", "a.ts")):
        found = extract(tmp_path, name, language, js)
        assert [(s.name, s.kind, s.start_line, s.end_line, s.scope) for s in found.symbols] == [
            ("FocusManager", "class", 1, 6, None),
            ("constructor", "constructor", 2, 4, "FocusManager"),
            ("#onFocus", "method", 5, 5, "FocusManager"),
            ("MAX", "class", 7, 7, None),
        ], language  # fmt: skip
        found = extract(tmp_path, name, language, compiled)
        assert [(s.name, s.start_line, s.end_line, s.scope) for s in found.symbols] == [
            ("_fs", 6, 12, None), ("_interopRequireWildcard", 13, 13, None), ("size", 14, 14, None),
        ], language  # fmt: skip
    typedefs = (
        "typedef void *(*gs_fetch_addr_fn)(void);\n"
        "typedef void* (*LZ4F_AllocFunction) (void* opaqueState, size_t size);\n"
    )
    wait = """\
static PyObject *
proc_wait(HANDLE h) {
    Py_BEGIN_ALLOW_THREADS
    r = WaitForSingleObject(h, t);
    Py_END_ALLOW_THREADS

    if (r == WAIT_FAILED) {
        return NULL;
    }
    FOO_LOCK
    while (busy) {
    }
    return r;
}
"""
    for language, name in (("c", "a.c"), ("cpp", "a.cpp")):
        found = extract(tmp_path, name, language, typedefs)
        assert [(s.name, s.kind, s.start_line) for s in found.symbols] == [
            ("gs_fetch_addr_fn", "type", 1), ("LZ4F_AllocFunction", "type", 2)
        ], language  # fmt: skip
        found = extract(tmp_path, name, language, wait)
        assert [(s.name, s.kind, s.end_line) for s in found.symbols] == [
            ("proc_wait", "function", 14)
        ], language  # fmt: skip
    pybind = """\
class PyB : public B {
public:
    int unlucky() override { PYBIND11_OVERRIDE(int, B, unlucky, ); }
    std::string say(unsigned times) override {
        PYBIND11_OVERRIDE(std::string, B, say, times);
    }
};
TEST(Suite, Name) {
}
"""
    found = extract(tmp_path, "t.cpp", "cpp", pybind)
    assert not [s.name for s in found.symbols if ";" in s.name]
    assert ("TEST(Suite, Name)", "function", 8) in [
        (s.name, s.kind, s.start_line) for s in found.symbols
    ]


FLOW = """#!/usr/bin/env node
/**
 * Copyright (c) Meta Platforms, Inc.
 *
 * @flow strict-local
 */
import type {Props} from './Types';
export default class Foo extends React.Component<Props> {
  measure(callback: (x: number) => void): void { callback(1); }
}
function helper(a: ?string): number { return 1; }
"""


def test_scala_3_indented_definitions_end_with_their_last_line(tmp_path: Path) -> None:
    """Its grammar ends an indented body where the next line's code starts."""
    code = ("object Main:\n  def f(x: Int): Int =\n    x + 1\n\n  class C:\n    def h = 2\n"
            "    // trailing comment\n\n  val y = 3\n")  # fmt: skip
    found = extract(tmp_path, "a.scala", "scala", code).symbols
    assert [(s.name, s.start_line, s.end_line) for s in found] == [
        ("Main", 1, 9), ("f", 2, 3), ("C", 5, 6), ("h", 6, 6), ("y", 9, 9)
    ]  # fmt: skip
    # an end marker ends its definition; `var`s of objects are properties
    code = ("object A:\n  object B:\n    def x =\n      1\n    end x\n  var n = 0\nend A\n"
            "def g: Int =\n  2\nend g\nvar Top = 1\n")  # fmt: skip
    found = extract(tmp_path, "a.scala", "scala", code).symbols
    assert [(s.name, s.kind, s.start_line, s.end_line) for s in found] == [
        ("A", "class", 1, 7), ("B", "class", 2, 5), ("x", "method", 3, 5),
        ("n", "property", 6, 6), ("g", "function", 8, 10), ("Top", "property", 11, 11),
    ]  # fmt: skip


def test_flow_javascript_is_parsed_with_the_tsx_grammar(tmp_path: Path) -> None:
    """Flow's annotations are errors to the JavaScript grammar, which then loses most
    definitions; the file stays `javascript`. A `@flow` after the code starts is no pragma."""
    flow = extract(tmp_path, "a.js", "javascript", FLOW)
    assert flow.language == "javascript"
    assert [(s.name, s.kind, s.scope) for s in flow.symbols] == [
        ("Foo", "class", None), ("measure", "method", "Foo"), ("helper", "function", None)
    ]  # fmt: skip
    assert [i.module for i in flow.imports] == ["./Types"]
    for pragma in ("// @flow\n", "/* @flow */ "):
        assert languages.grammar_for("javascript", pragma.encode() + b"x") == "tsx"
    for other in (b"x = 1; // @flow\n", b"// @flowtype\n", b"// @noflow\n"):
        assert languages.grammar_for("javascript", other) == "javascript"
    assert languages.grammar_for("typescript", b"// @flow\n") == "typescript"


def test_a_namespace_statement_scopes_what_follows(tmp_path: Path) -> None:
    """C#'s file-scoped `namespace A.B;` and PHP's `namespace A;` have no body: they scope
    the rest of the file, or up to the next such statement, as a block namespace would."""
    cs = extract(tmp_path, "a.cs", "csharp",
                 "namespace Acme.Core;\nusing System;\npublic class S { void Run(){} }\n")  # fmt: skip
    assert [(s.name, s.start_line, s.end_line, s.scope) for s in cs.symbols] == [
        ("Acme.Core", 1, 3, None), ("S", 3, 3, "Acme.Core"), ("Run", 3, 3, "Acme.Core.S")
    ]  # fmt: skip
    php = extract(tmp_path, "a.php", "php",
                  "<?php\nnamespace A;\nclass X {}\nnamespace B;\nclass Y {\n}\n")  # fmt: skip
    assert [(s.name, s.start_line, s.end_line, s.scope) for s in php.symbols] == [
        ("A", 2, 3, None), ("X", 3, 3, "A"), ("B", 4, 6, None), ("Y", 5, 6, "B")
    ]  # fmt: skip


def test_python_constants_of_a_module_level_if_or_try(tmp_path: Path) -> None:
    """One per branch, as Django's `try: import yaml; HAS_YAML = True except: HAS_YAML = False`;
    not in a function's or a class's `if`/`try`."""
    code = (
        "try:\n    import yaml\n    HAS_YAML = True\nexcept ImportError:\n    HAS_YAML = False\n"
        "else:\n    _OK = 1\nfinally:\n    DONE = 2\n"
        "if X:\n    A = 1\nelif Y:\n    B = 2\nelse:\n    C = 3\n    lower = 4\n"
        "def f():\n    if x:\n        LOCAL = 1\n"
        "class K:\n    try:\n        ATTR = 1\n    except E:\n        pass\n"
    )
    py = extract(tmp_path, "a.py", "python", code)
    assert [(s.name, s.kind, s.start_line) for s in py.symbols] == [
        ("HAS_YAML", "constant", 3), ("HAS_YAML", "constant", 5), ("_OK", "constant", 7),
        ("DONE", "constant", 9), ("A", "constant", 11), ("B", "constant", 13),
        ("C", "constant", 15), ("f", "function", 17), ("K", "class", 20),
    ]  # fmt: skip


def test_one_declaration_naming_several(tmp_path: Path) -> None:
    """`var a, b = 1, 2` is two symbols, not the first alone. Only variables, constants and
    fields take several names: in C++ a second "name" of a method is a macro the grammar
    misread (grpc's `ATTR SeqState(SeqState&& o) : whence(o.whence) {`)."""
    go = extract(
        tmp_path, "a.go", "go",
        "package p\nconst (\n\tA, B = 1, 2\n\tC\n)\nvar x, y int\nvar (\n\tm, _ = 1, 2\n)\n",
    )  # fmt: skip
    assert [(s.name, s.kind, s.start_line) for s in go.symbols] == [
        ("p", "namespace", 1), ("A", "constant", 3), ("B", "constant", 3),
        ("C", "constant", 4), ("x", "variable", 6), ("y", "variable", 6), ("m", "variable", 8),
    ]  # fmt: skip
    py = extract(tmp_path, "a.py", "python", "MAX_A, MAX_B = 1, 2\n(C, d) = 3, 4\nX = 5\n")
    assert [(s.name, s.start_line) for s in py.symbols] == [("MAX_A", 1), ("MAX_B", 1), ("C", 2), ("X", 3)]  # fmt: skip
    # one match per parameter: names of a variable, only the first name of a function
    root = worker.parser_for("python").parse(b"def f(a, b): pass\n").root_node
    for kind, names in (("variable", ["a", "b"]), ("function", ["a"])):
        query = f"(function_definition (parameters (identifier) @name)) @definition.{kind}"
        symbols, _ = tags.extract_tags(tags.compile_tags("python", query), root)
        assert [s.name for s in symbols] == names


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("java", "class A {\n  @Override\n  @Nullable\n  public int f() { return 1; }\n}\n"),
        ("kotlin", "class A {\n  @JvmStatic\n  @Test\n  fun f() {}\n}\n"),
        ("csharp", 'class A {\n  [Obsolete]\n  [HttpGet("x")]\n  public void f() {}\n}\n'),
        ("swift", "class A {\n  @objc\n  @discardableResult\n  func f() -> Int { 1 }\n}\n"),
        ("php", "<?php\nclass A {\n  #[Pure]\n  public function f() {}\n}\n"),
    ],
)
def test_a_symbol_starts_after_its_annotations(tmp_path: Path, language: str, code: str) -> None:
    """As Python's after its decorators: the line of the signature, not of `@Override`."""
    result = extract(tmp_path, "f", language, code)
    (f,) = [s for s in result.symbols if s.name == "f"]
    assert code.splitlines()[f.start_line - 1].strip().startswith(("public", "fun", "func"))
    assert f.end_line == f.start_line


def test_quoted_names_lose_their_backticks(tmp_path: Path) -> None:
    kotlin = extract(tmp_path, "t.kt", "kotlin", "class T {\n  @Test fun `two words`() {}\n}\n")
    assert [s.name for s in kotlin.symbols] == ["T", "two words"]
    swift = extract(tmp_path, "t.swift", "swift", "func `get`() -> Int { 1 }\n")
    assert [s.name for s in swift.symbols] == ["get"]


def test_ruby_defs_anywhere_and_parent_checks(tmp_path: Path) -> None:
    """A `def` is a function at the top of a file and a method anywhere else, whatever
    construct holds it; `initialize` is a constructor only in a class or module body;
    constants only at file, class or module level; `attr_*` names are properties of the class
    they are declared in, other class-level calls with symbols are none."""
    code = """\
LIMIT = 3
def initialize; end
class Job
  RETRIES = 2
  def initialize; end
  while false do
    def speed; 2; end
  end
  def run
    local = 1
  end
  attr_accessor :name, :email
  attr_reader(:id)
  validates :name, presence: true
end
"""
    result = extract(tmp_path, "w.rb", "ruby", code)
    assert [(s.name, s.kind, s.start_line, s.scope) for s in result.symbols] == [
        ("LIMIT", "constant", 1, None),
        ("initialize", "function", 2, None),
        ("Job", "class", 3, None),
        ("RETRIES", "constant", 4, "Job"),
        ("initialize", "constructor", 5, "Job"),
        ("speed", "method", 7, "Job"),
        ("run", "method", 9, "Job"),
        ("name", "property", 12, "Job"),
        ("email", "property", 12, "Job"),
        ("id", "property", 13, "Job"),
    ]


def test_unknown_or_malformed_query_predicate_is_an_error() -> None:
    with pytest.raises(ValueError, match="no-such"):
        tags.compile_tags("python", '((identifier) @name (#no-such? @name "x"))')
    with pytest.raises(ValueError, match="parent-type"):
        tags.compile_tags("python", "((identifier) @name (#parent-type? @name))")
    # py-tree-sitter 0.26.1 keeps every match of `#not-any-of?` given two values or more
    with pytest.raises(ValueError, match="not-any-of"):
        tags.compile_tags("python", '((identifier) @name (#not-any-of? @name "a" "b"))')


def test_extraction_keeps_no_tree_alive() -> None:
    """Nothing of a file outlives its extraction (a predicate callback once leaked every
    tree it saw): memory after many files is what it was after the first."""
    code = b"struct A { A(); int f() { const int k = 1; return k; } };\nconst int g = 2;\n" * 50
    parser = tslp.get_parser("cpp")
    query = tags.tags_query("cpp")
    assert query is not None

    def run(times: int) -> None:
        for _ in range(times):
            tags.extract_tags(query, parser.parse(code).root_node)

    run(3)  # caches warm
    tracemalloc.start()
    try:
        run(1)
        first = tracemalloc.get_traced_memory()[0]
        run(50)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - first < 64 * 1024, (first, after)


def test_compiled_javascript_and_declaration_files(tmp_path: Path) -> None:
    """What Babel and tsc emit (date-fns, zod): a property descriptor's accessor is no
    function, an API object's `get` is; `.d.ts` consts typed as functions are functions and
    upper-case ones constants; a prototype's function is its constructor's method (express).
    A Rust `impl` for `dyn Trait + 'a` is scoped by the trait; Python's private upper-case
    names are constants too."""
    code = """\
Object.defineProperty(exports, "x", { enumerable: true, get: function () { return m.x; } });
var desc = { enumerable: true, get: function() { return m[k]; } };
const api = { get: function (url) { return fetch(url); }, post: (u) => u };
"""
    for language, name in (("javascript", "index.js"), ("typescript", "index.ts")):
        found = extract(tmp_path, name, language, code).symbols
        assert [(s.name, s.kind, s.start_line) for s in found] == [
            ("get", "function", 3), ("post", "function", 3)
        ]  # fmt: skip
    dts = """\
export declare const BRAND: unique symbol;
export declare const stringType: (p?: Params) => ZodString;
declare const lower: number;
export declare function parse(s: string): Date;
"""
    found = extract(tmp_path, "types.d.ts", "typescript", dts).symbols
    assert [(s.name, s.kind, s.start_line) for s in found] == [
        ("BRAND", "constant", 1), ("stringType", "function", 2), ("parse", "function", 4)
    ]  # fmt: skip
    code = "function View() {}\nView.prototype.lookup = function lookup(name) {\n};\n"
    for language, name in (("javascript", "view.js"), ("typescript", "view.ts")):
        found = extract(tmp_path, name, language, code).symbols
        assert [(s.name, s.kind, s.scope) for s in found] == [
            ("View", "function", None), ("lookup", "method", "View")
        ]  # fmt: skip
    rust = "impl<'a> Display for dyn Expected + 'a {\n    fn fmt(&self) {}\n}\n"
    found = extract(tmp_path, "e.rs", "rust", rust).symbols
    assert [(s.name, s.scope) for s in found] == [("fmt", "Expected")]
    py = "_VALID_HEADER_RE = re.compile(b'x')\n__all__ = ['a']\n_private = 1\nMAX = 2\n"
    found = extract(tmp_path, "m.py", "python", py).symbols
    assert [(s.name, s.kind) for s in found] == [("_VALID_HEADER_RE", "constant"), ("MAX", "constant")]


RUST_ITEM_MACROS = """\
cfg_if::cfg_if! {
    if #[cfg(unix)] {
        mod unix;
        pub use self::unix::*;
        cfg_if! {
            if #[cfg(target_os = "linux")] { pub struct Epoll { fd: i32 } }
        }
    } else {
        pub fn unsupported() {}
    }
}

s! {
    pub struct timespec {
        pub tv_sec: i64,
    }
}

impl Runtime {
    cfg_rt! {
        /// Spawns a future onto the runtime.
        pub fn spawn<F>(&self, future: F) {}
    }
}

forward_to_deserialize_any! {
    bool i8 struct enum identifier
}

fn expand() -> TokenStream {
    quote! { fn generated() {} }
}

forward_to_deserialize_any! {
    unit_struct primitive_deserializer
}
"""


def test_rust_items_inside_macro_calls(tmp_path: Path) -> None:
    """What `cfg_if!`, tokio's `cfg_*!` and libc's `s!` wrap is read as items (nested too);
    a DSL body yields nothing and does not run on into the next; `quote!` in a function's
    body is code being generated, not defined."""
    found = extract(tmp_path, "lib.rs", "rust", RUST_ITEM_MACROS)
    assert found.status == "ok"  # the bodies' own parses add no parse errors
    assert [(s.name, s.kind, s.scope, s.start_line) for s in found.symbols] == [
        ("unix", "module", None, 3), ("Epoll", "struct", None, 6),
        ("unsupported", "function", None, 9), ("timespec", "struct", None, 14),
        ("spawn", "method", "Runtime", 22),
        ("expand", "function", None, 30),
    ]  # fmt: skip
    assert [(i.module, i.line) for i in found.imports] == [("self::unix", 4)]
    # a body the end of the file cuts off is not read; nesting is followed three levels deep
    assert extract(tmp_path, "cut.rs", "rust", "cfg_if! {").status == "syntax_error"
    deep = "cfg_if! { cfg_if! { cfg_if! { fn three() {} } } }\n"
    assert [s.name for s in extract(tmp_path, "deep.rs", "rust", deep).symbols] == ["three"]
