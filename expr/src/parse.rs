//! Parsers of DynamoDB's expression languages: conditions (ConditionExpression,
//! FilterExpression, KeyConditionExpression), UpdateExpression and
//! ProjectionExpression.
//!
//! Each parser runs in two phases, as DynamoDB does:
//!
//! 1. **Syntax.** A lexer built from nom combinators cuts the text into
//!    tokens and a recursive-descent
//!    parser builds a raw tree that keeps what the grammar allows but the
//!    language forbids (any function name, any number of arguments, a
//!    function where only an operand may stand). The first token that cannot
//!    continue a valid expression is reported as DynamoDB reports it:
//!    `Syntax error; token: "<token>", near: "<context>"`, where the context
//!    is the source text from the token before through the token after, and
//!    the end of input is the token `<EOF>`. The parser decides at each
//!    token without backtracking, so that token is the end of the longest
//!    valid prefix. Parenthesised groups are parsed with a cover grammar (a
//!    group holds either a condition or an operand; what follows it decides).
//! 2. **Semantics.** A walk of the raw tree in post-order (arguments before
//!    the function that takes them, as DynamoDB's parser actions run)
//!    remembers the first error of each kind and reports the kind that comes
//!    first in DynamoDB's order: redundant parentheses, unknown function,
//!    function used the wrong way, operand count, operand kind, and then
//!    Tarn's remaining limits. Any syntax error wins over all of them.
//!
//! Not checked here, on purpose: reserved words, whether placeholders are
//! defined, and every check that needs a value (operand types of `:values`,
//! BETWEEN bounds, `attribute_type` type names, distinct operands). Those
//! belong to [`resolve`](crate::resolve), which sees the request's
//! `ExpressionAttributeNames` and `ExpressionAttributeValues`.
//!
//! Names follow DynamoDB's lexer: a literal attribute name starts with an
//! ASCII letter and goes on with letters, digits and `_` (a leading `_` is a
//! syntax error in DynamoDB); placeholders are `#` or `:` followed by one or
//! more letters, digits or `_`. Keywords (`AND`, `OR`, `NOT`, `BETWEEN`,
//! `IN`; `SET`, `REMOVE`, `ADD`, `DELETE`) are case-insensitive; function
//! names are case-sensitive, as the DynamoDB API reference says.
//!
//! Recursion is bounded: parentheses and function calls may nest
//! [`NESTING_DEPTH_MAX`] deep; the token that opens one level more is a
//! syntax error. Chains of `AND`, `OR` and `NOT` are parsed by loops.

use crate::ast::{
    Comparator, Condition, Name, Operand, Path, PathElement, Projection, SetOperand, SetValue,
    Update, UpdateAction, ValueRef,
};
use crate::{ExprError, ExprKind};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{anychar, char, digit1, satisfy};
use nom::combinator::{recognize, value};
use nom::sequence::pair;
use nom::{IResult, Parser as _};

/// The longest expression DynamoDB accepts, in bytes of UTF-8.
pub const EXPRESSION_BYTES_MAX: usize = 4096;

/// The most candidates an `IN` list may hold.
pub const IN_OPERANDS_MAX: usize = 100;

/// The most elements a document path may have (`a.b[0]` has three).
pub const PATH_DEPTH_MAX: usize = 32;

/// The most operators and functions one expression may use.
pub const OPERATORS_MAX: usize = 300;

/// How deep parentheses and function calls may nest. DynamoDB states no
/// such limit, but it needs none: in an expression it accepts, every level
/// costs an operator ([`OPERATORS_MAX`]) except a grouped path's (`(a.b).c`,
/// bounded by [`PATH_DEPTH_MAX`]) and a redundant one (rejected). This bound
/// is above their sum, so it rejects nothing DynamoDB accepts, and it keeps
/// the parser's recursion far from the end of a 2 MiB thread stack.
pub const NESTING_DEPTH_MAX: usize = 340;

/// Parses a ConditionExpression, FilterExpression or KeyConditionExpression.
/// `kind` names the parameter in error messages.
pub fn parse_condition(text: &str, kind: ExprKind) -> Result<Condition, ExprError> {
    check_size(text, kind)?;
    let mut p = Parser::new(text, Language::Condition);
    let raw = p.condition().map_err(|e| p.syntax_error(kind, e))?;
    let mut sem = Semantics::default();
    sem.redundant_parens(p.redundant_parens);
    let condition = sem.condition(&raw);
    if let RCond::Call(call) = &raw {
        sem.misused_size(call);
    }
    sem.operators(p.operators);
    sem.finish(kind, condition)
}

/// Parses an UpdateExpression.
pub fn parse_update(text: &str) -> Result<Update, ExprError> {
    let kind = ExprKind::Update;
    check_size(text, kind)?;
    let mut p = Parser::new(text, Language::Update);
    let raw = p.update().map_err(|e| p.syntax_error(kind, e))?;
    let mut sem = Semantics::default();
    let update = sem.update(&raw);
    sem.operators(p.operators);
    sem.finish(kind, update)
}

/// Parses a ProjectionExpression.
pub fn parse_projection(text: &str) -> Result<Projection, ExprError> {
    let kind = ExprKind::Projection;
    check_size(text, kind)?;
    let mut p = Parser::new(text, Language::Projection);
    let paths = p.projection().map_err(|e| p.syntax_error(kind, e))?;
    let mut sem = Semantics::default();
    for path in &paths {
        sem.path(path);
    }
    sem.finish(kind, Some(Projection { paths }))
}

/// Empty and oversized expressions are rejected before any parsing. The size
/// message of ConditionExpression and FilterExpression carries the size; the
/// others do not (both captured from DynamoDB).
fn check_size(text: &str, kind: ExprKind) -> Result<(), ExprError> {
    if text.len() > EXPRESSION_BYTES_MAX {
        let detail = match kind {
            ExprKind::Condition | ExprKind::Filter => format!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                text.len()
            ),
            _ => "Expression size has exceeded the maximum allowed size;".to_string(),
        };
        return Err(ExprError::invalid(kind, detail));
    }
    if text.bytes().all(is_space) {
        return Err(ExprError::invalid(kind, "The expression can not be empty;"));
    }
    Ok(())
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

// ---------------------------------------------------------------------------
// Lexer

/// Which language is being lexed: it decides which words are keywords.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Language {
    Condition,
    Update,
    Projection,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Keyword {
    And,
    Or,
    Not,
    Between,
    In,
    Set,
    Remove,
    Add,
    Delete,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    /// A literal name or a function name.
    Ident,
    /// `#name`
    Name,
    /// `:value`
    Value,
    /// Decimal digits (list indexes).
    Number,
    Keyword(Keyword),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Plus,
    Minus,
    /// Any other character, one at a time.
    Unknown,
    Eof,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    tok: Tok,
    /// Byte range in the text.
    start: usize,
    end: usize,
}

fn keyword(word: &str, language: Language) -> Option<Keyword> {
    let candidates: &[(&str, Keyword)] = match language {
        Language::Condition => &[
            ("AND", Keyword::And),
            ("OR", Keyword::Or),
            ("NOT", Keyword::Not),
            ("BETWEEN", Keyword::Between),
            ("IN", Keyword::In),
        ],
        Language::Update => &[
            ("SET", Keyword::Set),
            ("REMOVE", Keyword::Remove),
            ("ADD", Keyword::Add),
            ("DELETE", Keyword::Delete),
        ],
        Language::Projection => &[],
    };
    candidates
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(word))
        .map(|&(_, kw)| kw)
}

/// A literal name or a function name: a letter, then letters, digits and
/// underscores.
fn word(input: &str) -> IResult<&str, &str> {
    recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(is_word_char),
    ))
    .parse(input)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `#name` or `:value`: the sigil and one or more word characters.
fn placeholder(sigil: char) -> impl FnMut(&str) -> IResult<&str, &str> {
    move |input| recognize(pair(char(sigil), take_while1(is_word_char))).parse(input)
}

/// One token at the front of `input` (which starts with no whitespace).
/// Total: any character that starts no other token is an `Unknown` token of
/// its own, so this fails only on empty input. The first byte picks the
/// combinator, so each token costs one parser, not a walk through all.
fn token(input: &str) -> IResult<&str, Tok> {
    match input.as_bytes().first() {
        Some(b'a'..=b'z' | b'A'..=b'Z') => value(Tok::Ident, word).parse(input),
        Some(b'0'..=b'9') => value(Tok::Number, digit1).parse(input),
        Some(b'#') => alt((
            value(Tok::Name, placeholder('#')),
            value(Tok::Unknown, anychar),
        ))
        .parse(input),
        Some(b':') => alt((
            value(Tok::Value, placeholder(':')),
            value(Tok::Unknown, anychar),
        ))
        .parse(input),
        Some(b'<' | b'>' | b'=') => alt((
            value(Tok::Le, tag("<=")),
            value(Tok::Ne, tag("<>")),
            value(Tok::Ge, tag(">=")),
            value(Tok::Eq, char('=')),
            value(Tok::Lt, char('<')),
            value(Tok::Gt, char('>')),
        ))
        .parse(input),
        _ => alt((
            value(Tok::LParen, char('(')),
            value(Tok::RParen, char(')')),
            value(Tok::LBracket, char('[')),
            value(Tok::RBracket, char(']')),
            value(Tok::Comma, char(',')),
            value(Tok::Dot, char('.')),
            value(Tok::Plus, char('+')),
            value(Tok::Minus, char('-')),
            value(Tok::Unknown, anychar),
        ))
        .parse(input),
    }
}

/// Cuts `text` into tokens; the last one is always `Eof`. Total: every byte
/// ends up in some token or in whitespace.
///
/// Tokens are read with nom; the grammar above them is a recursive descent
/// over this list, because DynamoDB's syntax errors name the first token
/// that cannot continue a valid expression and the tokens around it, which
/// a parser that never backtracks over tokens reproduces exactly.
fn lex(text: &str, language: Language) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    while !rest.is_empty() {
        let start = text.len() - rest.len();
        let (after, tok) = match token(rest) {
            Ok(found) => found,
            // Unreachable: `anychar` matches any non-empty input. Ending the
            // token list here still yields a syntax error, never a panic.
            Err(_) => break,
        };
        let end = text.len() - after.len();
        let tok = match tok {
            Tok::Ident => keyword(&text[start..end], language).map_or(Tok::Ident, Tok::Keyword),
            other => other,
        };
        tokens.push(Token { tok, start, end });
        rest = after.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    }
    tokens.push(Token {
        tok: Tok::Eof,
        start: text.len(),
        end: text.len(),
    });
    tokens
}

// ---------------------------------------------------------------------------
// Raw trees: what the grammar accepts, before the language's rules.

#[derive(Debug)]
enum ROperand<'a> {
    Path(Path),
    Value(&'a str),
    Call(Box<RCall<'a>>),
}

#[derive(Debug)]
struct RCall<'a> {
    name: &'a str,
    args: Vec<ROperand<'a>>,
}

#[derive(Debug)]
enum RCond<'a> {
    Compare(Box<[ROperand<'a>; 2]>, Comparator),
    /// value, low, high
    Between(Box<[ROperand<'a>; 3]>),
    In(Box<ROperand<'a>>, Vec<ROperand<'a>>),
    And(Box<RCond<'a>>, Box<RCond<'a>>),
    Or(Box<RCond<'a>>, Box<RCond<'a>>),
    Not(Box<RCond<'a>>),
    Call(Box<RCall<'a>>),
}

/// A parsed piece of a condition whose role may not be known yet: `(a)` is
/// an operand, `(a = b)` a condition, `(f(a))` either.
#[derive(Debug)]
enum Item<'a> {
    Cond(RCond<'a>),
    Operand(ROperand<'a>),
}

#[derive(Debug)]
struct Node<'a> {
    item: Item<'a>,
    /// The node is exactly a parenthesised group: wrapping it in another
    /// pair of parentheses is redundant.
    grouped: bool,
}

impl<'a> Node<'a> {
    fn cond(c: RCond<'a>) -> Self {
        Node {
            item: Item::Cond(c),
            grouped: false,
        }
    }
}

/// The right-hand side of a SET action, before the language's rules.
#[derive(Debug)]
enum RSetValue<'a> {
    Operand(RSetOperand<'a>),
    Plus(RSetOperand<'a>, RSetOperand<'a>),
    Minus(RSetOperand<'a>, RSetOperand<'a>),
}

#[derive(Debug)]
enum RSetOperand<'a> {
    Path(Path),
    Value(&'a str),
    Call(&'a str, Vec<RSetOperand<'a>>),
}

#[derive(Debug)]
enum RAction<'a> {
    Set(Path, RSetValue<'a>),
    Remove(Path),
    Add(Path, &'a str),
    Delete(Path, &'a str),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Section {
    Set,
    Remove,
    Add,
    Delete,
}

impl Section {
    fn keyword(self) -> &'static str {
        match self {
            Section::Set => "SET",
            Section::Remove => "REMOVE",
            Section::Add => "ADD",
            Section::Delete => "DELETE",
        }
    }
}

#[derive(Debug)]
struct RUpdate<'a> {
    actions: Vec<RAction<'a>>,
    /// The clause keywords in the order written.
    sections: Vec<Section>,
}

// ---------------------------------------------------------------------------
// Parser

/// A syntax error at the token with this index.
#[derive(Clone, Copy, Debug)]
struct SyntaxError {
    at: usize,
}

type PResult<T> = Result<T, SyntaxError>;

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Parentheses and calls currently open.
    depth: usize,
    /// Operators and functions seen (for [`OPERATORS_MAX`]).
    operators: usize,
    /// A group directly inside another group was seen.
    redundant_parens: bool,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, language: Language) -> Self {
        Parser {
            text,
            tokens: lex(text, language),
            pos: 0,
            depth: 0,
            operators: 0,
            redundant_parens: false,
        }
    }

    /// DynamoDB's message for a syntax error at token `e.at`: the token's
    /// text (or `<EOF>`), and the text from the previous token through the
    /// next one.
    fn syntax_error(&self, kind: ExprKind, e: SyntaxError) -> ExprError {
        let last = self.tokens.len() - 1;
        let at = e.at.min(last);
        let token = self.tokens[at];
        let prev = at.checked_sub(1).map(|i| self.tokens[i]);
        let (shown, near) = if token.tok == Tok::Eof {
            let near = prev.map_or("", |p| &self.text[p.start..p.end]);
            ("<EOF>", near)
        } else {
            let start = prev.map_or(token.start, |p| p.start);
            let next = self.tokens[(at + 1).min(last)];
            let end = if next.tok == Tok::Eof {
                token.end
            } else {
                next.end
            };
            (&self.text[token.start..token.end], &self.text[start..end])
        };
        ExprError::invalid(
            kind,
            format!("Syntax error; token: \"{shown}\", near: \"{near}\""),
        )
    }

    fn peek(&self) -> Tok {
        self.tokens[self.pos].tok
    }

    fn peek_at(&self, offset: usize) -> Tok {
        self.tokens
            .get(self.pos + offset)
            .map_or(Tok::Eof, |t| t.tok)
    }

    fn text_of(&self, index: usize) -> &'a str {
        let t = self.tokens[index];
        &self.text[t.start..t.end]
    }

    /// Consumes the current token (never past `Eof`).
    fn bump(&mut self) {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
    }

    fn error<T>(&self) -> PResult<T> {
        Err(SyntaxError { at: self.pos })
    }

    fn expect(&mut self, tok: Tok) -> PResult<()> {
        if self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            self.error()
        }
    }

    /// Opens one level of parentheses or call at the current token.
    fn enter(&mut self) -> PResult<()> {
        if self.depth >= NESTING_DEPTH_MAX {
            return self.error();
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // --- document paths -----------------------------------------------------

    /// `name ( '.' name | '[' digits ']' )*`
    fn path(&mut self) -> PResult<Path> {
        let head = self.path_name()?;
        let mut path = Path {
            elements: vec![PathElement::Attr(head)],
        };
        self.path_tail(&mut path)?;
        Ok(path)
    }

    fn path_name(&mut self) -> PResult<Name> {
        let name = match self.peek() {
            Tok::Ident => Name::Literal(self.text_of(self.pos).to_string()),
            Tok::Name => Name::Placeholder(self.text_of(self.pos).to_string()),
            _ => return self.error(),
        };
        self.bump();
        Ok(name)
    }

    fn path_tail(&mut self, path: &mut Path) -> PResult<()> {
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    let name = self.path_name()?;
                    path.elements.push(PathElement::Attr(name));
                }
                Tok::LBracket => {
                    self.bump();
                    if self.peek() != Tok::Number {
                        return self.error();
                    }
                    let Ok(index) = self.text_of(self.pos).parse::<u32>() else {
                        return self.error();
                    };
                    self.bump();
                    self.expect(Tok::RBracket)?;
                    path.elements.push(PathElement::Index(index));
                }
                _ => return Ok(()),
            }
        }
    }

    // --- conditions ---------------------------------------------------------

    fn condition(&mut self) -> PResult<RCond<'a>> {
        let node = self.expression()?;
        let cond = self.need_condition(node)?;
        self.expect(Tok::Eof)?;
        Ok(cond)
    }

    /// A node where a condition is required. A lone function call is one; a
    /// lone path or value is not, and the token after it is the error.
    fn need_condition(&self, node: Node<'a>) -> PResult<RCond<'a>> {
        match node.item {
            Item::Cond(c) => Ok(c),
            Item::Operand(ROperand::Call(call)) => Ok(RCond::Call(call)),
            Item::Operand(_) => self.error(),
        }
    }

    /// `OR` of `AND`s of terms, both left-associative, `AND` binding
    /// tighter. One loop, so that a level of parentheses costs few frames.
    fn expression(&mut self) -> PResult<Node<'a>> {
        let first = self.term()?;
        if !matches!(self.peek(), Tok::Keyword(Keyword::And | Keyword::Or)) {
            return Ok(first);
        }
        let mut ors: Option<RCond<'a>> = None;
        let mut ands = self.need_condition(first)?;
        loop {
            let or = match self.peek() {
                Tok::Keyword(Keyword::And) => false,
                Tok::Keyword(Keyword::Or) => true,
                _ => break,
            };
            self.bump();
            self.operators += 1;
            let next = self.term()?;
            let next = self.need_condition(next)?;
            if or {
                ors = Some(match ors {
                    None => ands,
                    Some(left) => RCond::Or(Box::new(left), Box::new(ands)),
                });
                ands = next;
            } else {
                ands = RCond::And(Box::new(ands), Box::new(next));
            }
        }
        let cond = match ors {
            None => ands,
            Some(left) => RCond::Or(Box::new(left), Box::new(ands)),
        };
        Ok(Node::cond(cond))
    }

    /// `NOT`s, then a comparison, BETWEEN, IN, a parenthesised group, or a
    /// lone operand (which only a group or a function call may turn out to
    /// be).
    fn term(&mut self) -> PResult<Node<'a>> {
        let mut nots = 0usize;
        while self.peek() == Tok::Keyword(Keyword::Not) {
            self.bump();
            nots += 1;
        }
        self.operators += nots;
        let node = if self.peek() == Tok::LParen {
            self.condition_group()?
        } else {
            Node {
                item: Item::Operand(self.operand()?),
                grouped: false,
            }
        };
        let node = match node.item {
            Item::Operand(left) => self.predicate(left, node.grouped)?,
            Item::Cond(_) => node,
        };
        if nots == 0 {
            return Ok(node);
        }
        let mut cond = self.need_condition(node)?;
        for _ in 0..nots {
            cond = RCond::Not(Box::new(cond));
        }
        Ok(Node::cond(cond))
    }

    /// What follows an operand: a comparator, BETWEEN or IN, or nothing.
    fn predicate(&mut self, left: ROperand<'a>, grouped: bool) -> PResult<Node<'a>> {
        let comparator = match self.peek() {
            Tok::Eq => Comparator::Eq,
            Tok::Ne => Comparator::Ne,
            Tok::Lt => Comparator::Lt,
            Tok::Le => Comparator::Le,
            Tok::Gt => Comparator::Gt,
            Tok::Ge => Comparator::Ge,
            Tok::Keyword(Keyword::Between) => {
                self.bump();
                self.operators += 1;
                let low = self.operand_in_parens()?;
                self.expect(Tok::Keyword(Keyword::And))?;
                let high = self.operand_in_parens()?;
                return Ok(Node::cond(RCond::Between(Box::new([left, low, high]))));
            }
            Tok::Keyword(Keyword::In) => {
                self.bump();
                self.operators += 1;
                self.expect(Tok::LParen)?;
                let mut list = vec![self.operand_in_parens()?];
                while self.peek() == Tok::Comma {
                    self.bump();
                    list.push(self.operand_in_parens()?);
                }
                self.expect(Tok::RParen)?;
                return Ok(Node::cond(RCond::In(Box::new(left), list)));
            }
            _ => {
                return Ok(Node {
                    item: Item::Operand(left),
                    grouped,
                })
            }
        };
        self.bump();
        self.operators += 1;
        let right = self.operand_in_parens()?;
        Ok(Node::cond(RCond::Compare(
            Box::new([left, right]),
            comparator,
        )))
    }

    /// `( condition-or-operand )`, then, for a path, more path elements:
    /// DynamoDB reads `(a.b).c` as the path `a.b.c`.
    fn condition_group(&mut self) -> PResult<Node<'a>> {
        self.enter()?;
        self.bump();
        let inner = self.expression()?;
        self.expect(Tok::RParen)?;
        self.leave();
        if inner.grouped {
            self.redundant_parens = true;
        }
        let mut node = Node {
            item: inner.item,
            grouped: true,
        };
        if let Item::Operand(ROperand::Path(path)) = &mut node.item {
            if matches!(self.peek(), Tok::Dot | Tok::LBracket) {
                self.path_tail(path)?;
                node.grouped = false;
            }
        }
        Ok(node)
    }

    /// An operand, possibly in parentheses (where only an operand may be).
    fn operand_in_parens(&mut self) -> PResult<ROperand<'a>> {
        Ok(self.operand_group()?.0)
    }

    /// The operand and whether it is exactly a parenthesised group.
    fn operand_group(&mut self) -> PResult<(ROperand<'a>, bool)> {
        if self.peek() != Tok::LParen {
            return Ok((self.operand()?, false));
        }
        self.enter()?;
        self.bump();
        let (mut inner, inner_grouped) = self.operand_group()?;
        self.expect(Tok::RParen)?;
        self.leave();
        if inner_grouped {
            self.redundant_parens = true;
        }
        let mut grouped = true;
        if let ROperand::Path(path) = &mut inner {
            if matches!(self.peek(), Tok::Dot | Tok::LBracket) {
                self.path_tail(path)?;
                grouped = false;
            }
        }
        Ok((inner, grouped))
    }

    /// A path, a `:value` or a function call.
    fn operand(&mut self) -> PResult<ROperand<'a>> {
        match self.peek() {
            Tok::Value => {
                let value = self.text_of(self.pos);
                self.bump();
                Ok(ROperand::Value(value))
            }
            Tok::Ident if self.peek_at(1) == Tok::LParen => {
                let name = self.text_of(self.pos);
                self.bump();
                self.enter()?;
                self.bump();
                self.operators += 1;
                let mut args = vec![self.operand_in_parens()?];
                while self.peek() == Tok::Comma {
                    self.bump();
                    args.push(self.operand_in_parens()?);
                }
                self.expect(Tok::RParen)?;
                self.leave();
                Ok(ROperand::Call(Box::new(RCall { name, args })))
            }
            Tok::Ident | Tok::Name => Ok(ROperand::Path(self.path()?)),
            _ => self.error(),
        }
    }

    // --- updates ------------------------------------------------------------

    fn update(&mut self) -> PResult<RUpdate<'a>> {
        let mut update = RUpdate {
            actions: Vec::new(),
            sections: Vec::new(),
        };
        loop {
            let section = match self.peek() {
                Tok::Keyword(Keyword::Set) => Section::Set,
                Tok::Keyword(Keyword::Remove) => Section::Remove,
                Tok::Keyword(Keyword::Add) => Section::Add,
                Tok::Keyword(Keyword::Delete) => Section::Delete,
                Tok::Eof if !update.sections.is_empty() => return Ok(update),
                _ => return self.error(),
            };
            self.bump();
            loop {
                let action = match section {
                    Section::Set => {
                        let path = self.path()?;
                        self.expect(Tok::Eq)?;
                        RAction::Set(path, self.set_value()?)
                    }
                    Section::Remove => RAction::Remove(self.path()?),
                    Section::Add => {
                        let path = self.path()?;
                        RAction::Add(path, self.value()?)
                    }
                    Section::Delete => {
                        let path = self.path()?;
                        RAction::Delete(path, self.value()?)
                    }
                };
                update.actions.push(action);
                if self.peek() != Tok::Comma {
                    break;
                }
                self.bump();
            }
            update.sections.push(section);
        }
    }

    fn value(&mut self) -> PResult<&'a str> {
        if self.peek() != Tok::Value {
            return self.error();
        }
        let value = self.text_of(self.pos);
        self.bump();
        Ok(value)
    }

    /// `operand`, `operand + operand` or `operand - operand`, possibly in
    /// parentheses as a whole, each operand possibly in parentheses.
    fn set_value(&mut self) -> PResult<RSetValue<'a>> {
        let first = if self.peek() == Tok::LParen {
            self.enter()?;
            self.bump();
            let inner = self.set_value()?;
            self.expect(Tok::RParen)?;
            self.leave();
            inner
        } else {
            RSetValue::Operand(self.set_operand()?)
        };
        let plus = match self.peek() {
            Tok::Plus => true,
            Tok::Minus => false,
            _ => return Ok(first),
        };
        // Only a single operand may stand left of `+`/`-`.
        let RSetValue::Operand(left) = first else {
            return self.error();
        };
        self.bump();
        self.operators += 1;
        let right = self.set_operand_in_parens()?;
        Ok(if plus {
            RSetValue::Plus(left, right)
        } else {
            RSetValue::Minus(left, right)
        })
    }

    fn set_operand_in_parens(&mut self) -> PResult<RSetOperand<'a>> {
        if self.peek() != Tok::LParen {
            return self.set_operand();
        }
        self.enter()?;
        self.bump();
        let inner = self.set_operand_in_parens()?;
        self.expect(Tok::RParen)?;
        self.leave();
        Ok(inner)
    }

    fn set_operand(&mut self) -> PResult<RSetOperand<'a>> {
        match self.peek() {
            Tok::Value => {
                let value = self.text_of(self.pos);
                self.bump();
                Ok(RSetOperand::Value(value))
            }
            Tok::Ident if self.peek_at(1) == Tok::LParen => {
                let name = self.text_of(self.pos);
                self.bump();
                self.enter()?;
                self.bump();
                self.operators += 1;
                let mut args = vec![self.set_operand_in_parens()?];
                while self.peek() == Tok::Comma {
                    self.bump();
                    args.push(self.set_operand_in_parens()?);
                }
                self.expect(Tok::RParen)?;
                self.leave();
                Ok(RSetOperand::Call(name, args))
            }
            Tok::Ident | Tok::Name => Ok(RSetOperand::Path(self.path()?)),
            _ => self.error(),
        }
    }

    // --- projections --------------------------------------------------------

    fn projection(&mut self) -> PResult<Vec<Path>> {
        let mut paths = vec![self.path()?];
        while self.peek() == Tok::Comma {
            self.bump();
            paths.push(self.path()?);
        }
        self.expect(Tok::Eof)?;
        Ok(paths)
    }
}

// ---------------------------------------------------------------------------
// Semantics

/// The functions of the update language; in a condition they are known
/// but not allowed.
const UPDATE_FUNCTION_IF_NOT_EXISTS: &str = "if_not_exists";
const UPDATE_FUNCTION_LIST_APPEND: &str = "list_append";

/// The kinds of semantic error, in the order DynamoDB reports them when an
/// expression has several (dynalite's `checkErrors`, which follows
/// DynamoDB). Tarn's own limits come last.
#[derive(Clone, Copy)]
enum Category {
    RedundantParens,
    UnknownFunction,
    MisusedFunction,
    /// UpdateExpression: a clause keyword used twice.
    Section,
    OperandCount,
    /// Operand kind: a document path required, a statically wrong type.
    Function,
    InOperands,
    PathDepth,
    Operators,
}

const CATEGORIES: usize = Category::Operators as usize + 1;

/// The first error of each category, in walk order.
#[derive(Default)]
struct Semantics {
    first: [Option<String>; CATEGORIES],
}

impl Semantics {
    fn record(&mut self, category: Category, detail: impl FnOnce() -> String) {
        let slot = &mut self.first[category as usize];
        if slot.is_none() {
            *slot = Some(detail());
        }
    }

    fn finish<T>(self, kind: ExprKind, tree: Option<T>) -> Result<T, ExprError> {
        if let Some(detail) = self.first.into_iter().flatten().next() {
            return Err(ExprError::invalid(kind, detail));
        }
        // Every path that yields no tree records an error first.
        debug_assert!(
            tree.is_some(),
            "a tree is missing but no error was recorded"
        );
        tree.ok_or_else(|| ExprError::invalid(kind, "The expression is not valid;"))
    }

    fn operators(&mut self, count: usize) {
        if count > OPERATORS_MAX {
            self.record(Category::Operators, || {
                format!("The expression contains too many operators; operator count: {count}")
            });
        }
    }

    fn path(&mut self, path: &Path) {
        let depth = path.elements.len();
        if depth > PATH_DEPTH_MAX {
            self.record(Category::PathDepth, || {
                format!("The document path has too many nesting levels; nesting levels: {depth}")
            });
        }
    }

    fn redundant_parens(&mut self, seen: bool) {
        if seen {
            self.record(Category::RedundantParens, || {
                "The expression has redundant parentheses;".to_string()
            });
        }
    }

    /// Functions other than `size` may not be operands.
    fn misused_operands<'a>(&mut self, operands: impl IntoIterator<Item = &'a ROperand<'a>>) {
        for operand in operands {
            if let ROperand::Call(call) = operand {
                if call.name != "size" {
                    self.misused(call.name);
                }
            }
        }
    }

    /// `size` may not be a condition.
    fn misused_size(&mut self, call: &RCall<'_>) {
        if call.name == "size" {
            self.misused("size");
        }
    }

    fn misused_size_in(&mut self, cond: &RCond<'_>) {
        if let RCond::Call(call) = cond {
            self.misused_size(call);
        }
    }

    fn misused(&mut self, name: &str) {
        self.record(Category::MisusedFunction, || {
            format!(
                "The function is not allowed to be used this way in an expression; function: {name}"
            )
        });
    }

    fn unknown_function(&mut self, name: &str) {
        self.record(Category::UnknownFunction, || {
            format!("Invalid function name; function: {name}")
        });
    }

    /// A function of the other language: an update function in a
    /// condition, or a condition function in an update. DynamoDB knows the
    /// name and says where it may not be used; the name check it belongs
    /// to comes before every other function check.
    fn wrong_language(&mut self, name: &str, language: &str) {
        self.record(Category::UnknownFunction, || {
            format!("The function is not allowed in {language} expression; function: {name}")
        });
    }

    fn operand_count(&mut self, category: Category, name: &str, count: usize) {
        self.record(category, || {
            format!(
                "Incorrect number of operands for operator or function; \
                 operator or function: {name}, number of operands: {count}"
            )
        });
    }

    fn requires_path(&mut self, name: &str) {
        self.record(Category::Function, || {
            format!("Operator or function requires a document path; operator or function: {name}")
        });
    }

    fn operand_type(&mut self, name: &str, operand_type: &str) {
        self.record(Category::Function, || {
            format!(
                "Incorrect operand type for operator or function; \
                 operator or function: {name}, operand type: {operand_type}"
            )
        });
    }

    // --- conditions ---------------------------------------------------------

    /// Lowers a condition. Chains of `AND`, `OR` and `NOT` are walked by a
    /// loop down their left (or only) operand, so recursion happens only
    /// where the text nests parentheses or calls.
    fn condition(&mut self, raw: &RCond<'_>) -> Option<Condition> {
        let mut spine = Vec::new();
        let mut node = raw;
        loop {
            match node {
                RCond::And(left, _) | RCond::Or(left, _) => {
                    spine.push(node);
                    node = left;
                }
                RCond::Not(inner) => {
                    spine.push(node);
                    node = inner;
                }
                _ => break,
            }
        }
        let mut lowered = self.predicate(node);
        let mut below = node;
        for &parent in spine.iter().rev() {
            lowered = match parent {
                RCond::And(_, right) | RCond::Or(_, right) => {
                    let r = self.condition(right);
                    self.misused_size_in(below);
                    self.misused_size_in(right);
                    match (lowered, r) {
                        (Some(l), Some(r)) => Some(if matches!(parent, RCond::And(..)) {
                            Condition::And(Box::new(l), Box::new(r))
                        } else {
                            Condition::Or(Box::new(l), Box::new(r))
                        }),
                        _ => None,
                    }
                }
                _ => {
                    self.misused_size_in(below);
                    lowered.map(|c| Condition::Not(Box::new(c)))
                }
            };
            below = parent;
        }
        lowered
    }

    /// Lowers a condition that is not `AND`, `OR` or `NOT`.
    fn predicate(&mut self, raw: &RCond<'_>) -> Option<Condition> {
        match raw {
            RCond::Compare(operands, op) => {
                let [left, right] = &**operands;
                let l = self.operand(left);
                let r = self.operand(right);
                self.misused_operands([left, right]);
                Some(Condition::Compare {
                    left: l?,
                    op: *op,
                    right: r?,
                })
            }
            RCond::Between(operands) => {
                let [value, low, high] = &**operands;
                let v = self.operand(value);
                let l = self.operand(low);
                let h = self.operand(high);
                self.misused_operands([value, low, high]);
                Some(Condition::Between {
                    value: v?,
                    low: l?,
                    high: h?,
                })
            }
            RCond::In(value, list) => {
                let v = self.operand(value);
                let items: Vec<Option<Operand>> = list.iter().map(|o| self.operand(o)).collect();
                self.misused_operands(std::iter::once(&**value).chain(list));
                if list.len() > IN_OPERANDS_MAX {
                    let count = list.len();
                    self.record(Category::InOperands, || {
                        format!(
                            "The IN operator is provided with too many operands; \
                             number of operands: {count}"
                        )
                    });
                }
                let list = items.into_iter().collect::<Option<Vec<_>>>()?;
                Some(Condition::In { value: v?, list })
            }
            RCond::Call(call) => match self.call(call)? {
                Function::Condition(c) => Some(c),
                // Reported by the parent as a misused `size`.
                Function::Size(_) => None,
            },
            RCond::And(..) | RCond::Or(..) | RCond::Not(_) => self.condition(raw),
        }
    }

    fn operand(&mut self, raw: &ROperand<'_>) -> Option<Operand> {
        match raw {
            ROperand::Path(path) => {
                self.path(path);
                Some(Operand::Path(path.clone()))
            }
            ROperand::Value(v) => Some(Operand::Value(ValueRef::Placeholder((*v).to_string()))),
            ROperand::Call(call) => match self.call(call)? {
                Function::Size(operand) => Some(operand),
                // Reported by the parent as a misused function.
                Function::Condition(_) => None,
            },
        }
    }

    /// A function of the condition language. Arguments are checked first
    /// (the only recursion); the function itself by [`Self::function`].
    fn call(&mut self, call: &RCall<'_>) -> Option<Function> {
        let args: Vec<Option<Operand>> = call.args.iter().map(|a| self.operand(a)).collect();
        self.function(call, args)
    }

    /// Checks a call of the condition language whose arguments are lowered.
    fn function(&mut self, call: &RCall<'_>, args: Vec<Option<Operand>>) -> Option<Function> {
        self.misused_operands(&call.args);
        let arity = match call.name {
            "attribute_exists" | "attribute_not_exists" | "size" => 1,
            "attribute_type" | "begins_with" | "contains" => 2,
            UPDATE_FUNCTION_IF_NOT_EXISTS | UPDATE_FUNCTION_LIST_APPEND => {
                self.wrong_language(call.name, "a condition");
                return None;
            }
            _ => {
                self.unknown_function(call.name);
                return None;
            }
        };
        if args.len() != arity {
            self.operand_count(Category::OperandCount, call.name, args.len());
            return None;
        }
        let is_size = |o: &ROperand<'_>| matches!(o, ROperand::Call(c) if c.name == "size");
        let raw = &call.args;
        match call.name {
            "attribute_exists" | "attribute_not_exists" => {
                let ROperand::Path(path) = &raw[0] else {
                    self.requires_path(call.name);
                    return None;
                };
                let path = path.clone();
                Some(Function::Condition(if call.name == "attribute_exists" {
                    Condition::AttributeExists(path)
                } else {
                    Condition::AttributeNotExists(path)
                }))
            }
            "attribute_type" => {
                if is_size(&raw[1]) {
                    self.operand_type(call.name, "N");
                    return None;
                }
                if matches!(raw[1], ROperand::Path(_)) {
                    // A path has no type before evaluation; DynamoDB lists
                    // every type (in no fixed order).
                    self.operand_type(call.name, "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
                    return None;
                }
                // The first operand may be any operand: a path, a value or
                // a size.
                let mut args = args.into_iter();
                let (a, t) = (args.next().flatten()?, args.next().flatten()?);
                Some(Function::Condition(Condition::AttributeType(a, t)))
            }
            "begins_with" | "contains" => {
                if call.name == "begins_with" && raw.iter().any(is_size) {
                    self.operand_type(call.name, "N");
                    return None;
                }
                let mut args = args.into_iter();
                let (a, b) = (args.next().flatten()?, args.next().flatten()?);
                Some(Function::Condition(if call.name == "begins_with" {
                    Condition::BeginsWith(a, b)
                } else {
                    Condition::Contains(a, b)
                }))
            }
            _ => {
                // size: of a path, or of a value (whose type the resolver
                // checks).
                match &raw[0] {
                    ROperand::Path(path) => Some(Function::Size(Operand::Size(path.clone()))),
                    ROperand::Value(v) => Some(Function::Size(Operand::ValueSize(
                        ValueRef::Placeholder((*v).to_string()),
                    ))),
                    ROperand::Call(inner) if inner.name == "size" => {
                        self.operand_type("size", "N");
                        None
                    }
                    ROperand::Call(_) => None,
                }
            }
        }
    }

    // --- updates ------------------------------------------------------------

    fn update(&mut self, raw: &RUpdate<'_>) -> Option<Update> {
        let mut actions = Vec::with_capacity(raw.actions.len());
        let mut valid = true;
        for action in &raw.actions {
            match self.action(action) {
                Some(a) => actions.push(a),
                None => valid = false,
            }
        }
        for (i, section) in raw.sections.iter().enumerate() {
            if raw.sections[..i].contains(section) {
                self.record(Category::Section, || {
                    format!(
                        "The \"{}\" section can only be used once in an update expression;",
                        section.keyword()
                    )
                });
            }
        }
        valid.then_some(Update { actions })
    }

    fn action(&mut self, raw: &RAction<'_>) -> Option<UpdateAction> {
        let value = |v: &str| ValueRef::Placeholder(v.to_string());
        match raw {
            RAction::Set(path, v) => {
                self.path(path);
                let v = self.set_value(v)?;
                Some(UpdateAction::Set(path.clone(), v))
            }
            RAction::Remove(path) => {
                self.path(path);
                Some(UpdateAction::Remove(path.clone()))
            }
            RAction::Add(path, v) => {
                self.path(path);
                Some(UpdateAction::Add(path.clone(), value(v)))
            }
            RAction::Delete(path, v) => {
                self.path(path);
                Some(UpdateAction::Delete(path.clone(), value(v)))
            }
        }
    }

    fn set_value(&mut self, raw: &RSetValue<'_>) -> Option<SetValue> {
        match raw {
            RSetValue::Operand(o) => Some(SetValue::Operand(self.set_operand(o)?)),
            RSetValue::Plus(a, b) | RSetValue::Minus(a, b) => {
                let l = self.set_operand(a);
                let r = self.set_operand(b);
                self.misused_list_append([a, b]);
                let (l, r) = (l?, r?);
                Some(if matches!(raw, RSetValue::Plus(..)) {
                    SetValue::Plus(l, r)
                } else {
                    SetValue::Minus(l, r)
                })
            }
        }
    }

    /// An operand of the update language. Arguments are checked first; the
    /// operand count and the path argument of `if_not_exists` are one
    /// category in updates (dynalite's `updateParser`).
    fn set_operand(&mut self, raw: &RSetOperand<'_>) -> Option<SetOperand> {
        match raw {
            RSetOperand::Path(path) => {
                self.path(path);
                Some(SetOperand::Path(path.clone()))
            }
            RSetOperand::Value(v) => Some(SetOperand::Value(ValueRef::Placeholder(v.to_string()))),
            RSetOperand::Call(name, raw_args) => {
                let args: Vec<Option<SetOperand>> =
                    raw_args.iter().map(|a| self.set_operand(a)).collect();
                self.misused_list_append(raw_args);
                self.update_function(name, raw_args, args)
            }
        }
    }

    /// `list_append` may only be the whole right-hand side of a SET:
    /// DynamoDB refuses it as an argument of a function (itself included)
    /// and as an operand of `+` or `-`, while `if_not_exists` may stand
    /// there.
    fn misused_list_append<'a>(&mut self, operands: impl IntoIterator<Item = &'a RSetOperand<'a>>) {
        for operand in operands {
            if matches!(operand, RSetOperand::Call(UPDATE_FUNCTION_LIST_APPEND, _)) {
                self.misused(UPDATE_FUNCTION_LIST_APPEND);
            }
        }
    }

    /// Checks a call of the update language whose arguments are lowered.
    fn update_function(
        &mut self,
        name: &str,
        raw_args: &[RSetOperand<'_>],
        args: Vec<Option<SetOperand>>,
    ) -> Option<SetOperand> {
        match name {
            UPDATE_FUNCTION_IF_NOT_EXISTS | UPDATE_FUNCTION_LIST_APPEND => {}
            "attribute_exists"
            | "attribute_not_exists"
            | "attribute_type"
            | "begins_with"
            | "contains"
            | "size" => {
                self.wrong_language(name, "an update");
                return None;
            }
            _ => {
                self.unknown_function(name);
                return None;
            }
        }
        if args.len() != 2 {
            self.operand_count(Category::Function, name, args.len());
            return None;
        }
        let mut args = args.into_iter();
        let (a, b) = (args.next().flatten(), args.next().flatten());
        if name == UPDATE_FUNCTION_IF_NOT_EXISTS {
            let RSetOperand::Path(path) = &raw_args[0] else {
                self.requires_path(name);
                return None;
            };
            Some(SetOperand::IfNotExists(path.clone(), Box::new(b?)))
        } else {
            Some(SetOperand::ListAppend(Box::new(a?), Box::new(b?)))
        }
    }
}

/// What a condition-language function is once its name and arguments are
/// known to be right.
enum Function {
    Condition(Condition),
    /// `size(...)`: [`Operand::Size`] or [`Operand::ValueSize`].
    Size(Operand),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::SetOperand as SO;

    /// A path from test notation: names and placeholders separated by `.`,
    /// indexes in brackets. Independent of the parser under test.
    fn path(text: &str) -> Path {
        let mut elements = Vec::new();
        for segment in text.split('.') {
            let (head, rest) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
            if !head.is_empty() {
                let name = if head.starts_with('#') {
                    Name::Placeholder(head.to_string())
                } else {
                    Name::Literal(head.to_string())
                };
                elements.push(PathElement::Attr(name));
            }
            for index in rest.split(['[', ']']).filter(|s| !s.is_empty()) {
                elements.push(PathElement::Index(index.parse().expect("test index")));
            }
        }
        Path { elements }
    }

    fn p(text: &str) -> Operand {
        Operand::Path(path(text))
    }

    fn v(text: &str) -> Operand {
        Operand::Value(ValueRef::Placeholder(text.to_string()))
    }

    fn size(text: &str) -> Operand {
        Operand::Size(path(text))
    }

    fn cmp(left: Operand, op: Comparator, right: Operand) -> Condition {
        Condition::Compare { left, op, right }
    }

    fn eq(left: Operand, right: Operand) -> Condition {
        cmp(left, Comparator::Eq, right)
    }

    fn and(a: Condition, b: Condition) -> Condition {
        Condition::And(Box::new(a), Box::new(b))
    }

    fn or(a: Condition, b: Condition) -> Condition {
        Condition::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Condition) -> Condition {
        Condition::Not(Box::new(a))
    }

    fn sp(text: &str) -> SO {
        SO::Path(path(text))
    }

    fn sv(text: &str) -> SO {
        SO::Value(ValueRef::Placeholder(text.to_string()))
    }

    fn vr(text: &str) -> ValueRef {
        ValueRef::Placeholder(text.to_string())
    }

    fn set(target: &str, value: SetValue) -> UpdateAction {
        UpdateAction::Set(path(target), value)
    }

    fn cond(text: &str) -> Condition {
        match parse_condition(text, ExprKind::Condition) {
            Ok(c) => c,
            Err(e) => panic!("{text:?} should parse: {}", e.message),
        }
    }

    fn update(text: &str) -> Vec<UpdateAction> {
        match parse_update(text) {
            Ok(u) => u.actions,
            Err(e) => panic!("{text:?} should parse: {}", e.message),
        }
    }

    fn condition_error(text: &str, kind: ExprKind) -> String {
        match parse_condition(text, kind) {
            Ok(c) => panic!("{text:?} should not parse, got {c:?}"),
            Err(e) => e.message,
        }
    }

    fn update_error(text: &str) -> String {
        match parse_update(text) {
            Ok(u) => panic!("{text:?} should not parse, got {u:?}"),
            Err(e) => e.message,
        }
    }

    fn projection_error(text: &str) -> String {
        match parse_projection(text) {
            Ok(p) => panic!("{text:?} should not parse, got {p:?}"),
            Err(e) => e.message,
        }
    }

    /// The one syntax tree every spelling in `texts` must give, and its
    /// printed form parses back to it.
    fn assert_conditions(cases: Vec<(&str, Condition)>) {
        for (text, expected) in cases {
            let got = cond(text);
            assert_eq!(got, expected, "{text:?}");
            let printed = got.to_string();
            assert_eq!(cond(&printed), expected, "{text:?} printed as {printed:?}");
        }
    }

    #[test]
    fn comparators() {
        use Comparator::*;
        assert_conditions(vec![
            ("a = :x", eq(p("a"), v(":x"))),
            ("a <> :x", cmp(p("a"), Ne, v(":x"))),
            ("a < :x", cmp(p("a"), Lt, v(":x"))),
            ("a <= :x", cmp(p("a"), Le, v(":x"))),
            ("a > :x", cmp(p("a"), Gt, v(":x"))),
            ("a >= :x", cmp(p("a"), Ge, v(":x"))),
            ("a=:x", eq(p("a"), v(":x"))),
            (":x<>:y", cmp(v(":x"), Ne, v(":y"))),
            ("a = b", eq(p("a"), p("b"))),
            ("  a\n=\t:x \r\n", eq(p("a"), v(":x"))),
            ("Name = :v", eq(p("Name"), v(":v"))),
            ("a1_b2 = :v_1", eq(p("a1_b2"), v(":v_1"))),
            ("#_ = :_", eq(p("#_"), v(":_"))),
            ("#0 = :0", eq(p("#0"), v(":0"))),
        ]);
    }

    #[test]
    fn precedence_and_associativity() {
        let (a, b, c) = (
            || eq(p("a"), v(":x")),
            || eq(p("b"), v(":y")),
            || eq(p("c"), v(":z")),
        );
        assert_conditions(vec![
            (
                "a = :x OR b = :y AND NOT c = :z",
                or(a(), and(b(), not(c()))),
            ),
            ("a = :x AND b = :y OR c = :z", or(and(a(), b()), c())),
            ("a = :x AND b = :y AND c = :z", and(and(a(), b()), c())),
            ("a = :x OR b = :y OR c = :z", or(or(a(), b()), c())),
            ("(a = :x OR b = :y) AND c = :z", and(or(a(), b()), c())),
            ("a = :x or (b = :y and c = :z)", or(a(), and(b(), c()))),
            ("NOT a = :x AND b = :y", and(not(a()), b())),
            ("NOT (a = :x AND b = :y)", not(and(a(), b()))),
            ("not not a = :x", not(not(a()))),
            ("NOT(a = :x)", not(a())),
            ("(a = :x)", a()),
            ("((a) = :x)", a()),
            ("a = :x aNd b = :y Or c = :z", or(and(a(), b()), c())),
        ]);
    }

    #[test]
    fn between_and_in() {
        assert_conditions(vec![
            (
                "a BETWEEN :lo AND :hi",
                Condition::Between {
                    value: p("a"),
                    low: v(":lo"),
                    high: v(":hi"),
                },
            ),
            (
                "a between :lo and :hi AND b = :c",
                and(
                    Condition::Between {
                        value: p("a"),
                        low: v(":lo"),
                        high: v(":hi"),
                    },
                    eq(p("b"), v(":c")),
                ),
            ),
            (
                "(a)between(b.c.d)and(c)",
                Condition::Between {
                    value: p("a"),
                    low: p("b.c.d"),
                    high: p("c"),
                },
            ),
            (
                "size(a) BeTwEeN :lo AND size(b)",
                Condition::Between {
                    value: size("a"),
                    low: v(":lo"),
                    high: size("b"),
                },
            ),
            (
                "a IN (:a)",
                Condition::In {
                    value: p("a"),
                    list: vec![v(":a")],
                },
            ),
            (
                "a in (:a, b.c, size(d))",
                Condition::In {
                    value: p("a"),
                    list: vec![v(":a"), p("b.c"), size("d")],
                },
            ),
            (
                "a IN ((:a), :b)",
                Condition::In {
                    value: p("a"),
                    list: vec![v(":a"), v(":b")],
                },
            ),
        ]);
    }

    #[test]
    fn functions() {
        assert_conditions(vec![
            (
                "attribute_exists(a.b[0])",
                Condition::AttributeExists(path("a.b[0]")),
            ),
            (
                "attribute_not_exists(#pk)",
                Condition::AttributeNotExists(path("#pk")),
            ),
            (
                "attribute_exists((a))",
                Condition::AttributeExists(path("a")),
            ),
            (
                "attribute_type(a, :t)",
                Condition::AttributeType(p("a"), v(":t")),
            ),
            (
                "attribute_type(:v, :t)",
                Condition::AttributeType(v(":v"), v(":t")),
            ),
            (
                "attribute_type(size(a), :t)",
                Condition::AttributeType(size("a"), v(":t")),
            ),
            (
                "size(:v) > :n",
                cmp(Operand::ValueSize(vr(":v")), Comparator::Gt, v(":n")),
            ),
            ("begins_with(a, :p)", Condition::BeginsWith(p("a"), v(":p"))),
            ("begins_with (a,:p)", Condition::BeginsWith(p("a"), v(":p"))),
            ("contains(:v, a)", Condition::Contains(v(":v"), p("a"))),
            (
                "contains(a, size(b))",
                Condition::Contains(p("a"), size("b")),
            ),
            ("size(a) > :n", cmp(size("a"), Comparator::Gt, v(":n"))),
            ("size((a)) <= :n", cmp(size("a"), Comparator::Le, v(":n"))),
            ("(size(a)) = :n", eq(size("a"), v(":n"))),
            (
                "(attribute_exists(a))",
                Condition::AttributeExists(path("a")),
            ),
            (
                "attribute_not_exists(#pk) OR (#s = :s AND #v < :v)",
                or(
                    Condition::AttributeNotExists(path("#pk")),
                    and(eq(p("#s"), v(":s")), cmp(p("#v"), Comparator::Lt, v(":v"))),
                ),
            ),
            (
                "contains(a, :v) AND NOT attribute_exists(b)",
                and(
                    Condition::Contains(p("a"), v(":v")),
                    not(Condition::AttributeExists(path("b"))),
                ),
            ),
        ]);
    }

    #[test]
    fn document_paths() {
        assert_conditions(vec![
            ("#n.#m[2] = :v", eq(p("#n.#m[2]"), v(":v"))),
            ("a[0][1].b = :v", eq(p("a[0][1].b"), v(":v"))),
            ("a . b [ 1 ] = :v", eq(p("a.b[1]"), v(":v"))),
            ("a[007] = :v", eq(p("a[7]"), v(":v"))),
            ("a[4294967295] = :v", eq(p("a[4294967295]"), v(":v"))),
            ("(a.b).c = :v", eq(p("a.b.c"), v(":v"))),
            ("(a)[1] = :v", eq(p("a[1]"), v(":v"))),
            ("a = (b).c", eq(p("a"), p("b.c"))),
            ("((a).b) = :v", eq(p("a.b"), v(":v"))),
            ("Attr.ATTR.attr = :v", eq(p("Attr.ATTR.attr"), v(":v"))),
        ]);
        let deepest = vec!["a"; PATH_DEPTH_MAX].join(".");
        assert_eq!(cond(&format!("{deepest} = :v")), eq(p(&deepest), v(":v")));
    }

    #[test]
    fn limits_at_their_maximum_are_accepted() {
        let list = (0..IN_OPERANDS_MAX)
            .map(|i| format!(":v{i}"))
            .collect::<Vec<_>>();
        let text = format!("a IN ({})", list.join(", "));
        assert!(matches!(cond(&text), Condition::In { list, .. } if list.len() == 100));

        // 150 comparisons, 149 ANDs and a NOT: 300 operators.
        let mut text = "a = :v".to_string();
        for _ in 0..(OPERATORS_MAX / 2 - 2) {
            text.push_str(" AND a = :v");
        }
        text.push_str(" AND NOT a = :v");
        assert!(parse_condition(&text, ExprKind::Condition).is_ok());

        let text = format!("{}a = :v{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(condition_error(&text, ExprKind::Condition), REDUNDANT);
        let text = format!("a{}", " ".repeat(EXPRESSION_BYTES_MAX - 1));
        assert!(parse_projection(&text).is_ok());
    }

    #[test]
    fn update_clauses() {
        use SetValue::{Minus, Operand as Op, Plus};
        let cases: Vec<(&str, Vec<UpdateAction>)> = vec![
            ("SET a = :v", vec![set("a", Op(sv(":v")))]),
            (
                "set a=:v,b=c",
                vec![set("a", Op(sv(":v"))), set("b", Op(sp("c")))],
            ),
            (
                "SET a = b + :one",
                vec![set("a", Plus(sp("b"), sv(":one")))],
            ),
            (
                "SET a = b - :one",
                vec![set("a", Minus(sp("b"), sv(":one")))],
            ),
            ("SET a = (b + :c)", vec![set("a", Plus(sp("b"), sv(":c")))]),
            (
                "SET a = (b) - (:c)",
                vec![set("a", Minus(sp("b"), sv(":c")))],
            ),
            ("SET a = ((b))", vec![set("a", Op(sp("b")))]),
            ("SET a[0].b = :v", vec![set("a[0].b", Op(sv(":v")))]),
            (
                "SET a = if_not_exists(a, :zero) + :one",
                vec![set(
                    "a",
                    Plus(
                        SO::IfNotExists(path("a"), Box::new(sv(":zero"))),
                        sv(":one"),
                    ),
                )],
            ),
            (
                "SET a = list_append(if_not_exists(a, :empty), :l)",
                vec![set(
                    "a",
                    Op(SO::ListAppend(
                        Box::new(SO::IfNotExists(path("a"), Box::new(sv(":empty")))),
                        Box::new(sv(":l")),
                    )),
                )],
            ),
            (
                "SET a = if_not_exists(a, if_not_exists(b, (:c)))",
                vec![set(
                    "a",
                    Op(SO::IfNotExists(
                        path("a"),
                        Box::new(SO::IfNotExists(path("b"), Box::new(sv(":c")))),
                    )),
                )],
            ),
            (
                "REMOVE a, b.c[2]",
                vec![
                    UpdateAction::Remove(path("a")),
                    UpdateAction::Remove(path("b.c[2]")),
                ],
            ),
            (
                "ADD a :v, #b :w",
                vec![
                    UpdateAction::Add(path("a"), vr(":v")),
                    UpdateAction::Add(path("#b"), vr(":w")),
                ],
            ),
            (
                "delete s :v",
                vec![UpdateAction::Delete(path("s"), vr(":v"))],
            ),
            (
                "remove a SET b = :v delete c :d add e :f",
                vec![
                    UpdateAction::Remove(path("a")),
                    set("b", Op(sv(":v"))),
                    UpdateAction::Delete(path("c"), vr(":d")),
                    UpdateAction::Add(path("e"), vr(":f")),
                ],
            ),
            (
                "SET #a = :a, #b = if_not_exists(#b, :zero) + :one REMOVE #c ADD #d :set",
                vec![
                    set("#a", Op(sv(":a"))),
                    set(
                        "#b",
                        Plus(
                            SO::IfNotExists(path("#b"), Box::new(sv(":zero"))),
                            sv(":one"),
                        ),
                    ),
                    UpdateAction::Remove(path("#c")),
                    UpdateAction::Add(path("#d"), vr(":set")),
                ],
            ),
            (
                "SET\n  #a = :a\nADD #b :b",
                vec![
                    set("#a", Op(sv(":a"))),
                    UpdateAction::Add(path("#b"), vr(":b")),
                ],
            ),
        ];
        for (text, expected) in cases {
            let got = update(text);
            assert_eq!(got, expected, "{text:?}");
            let printed = Update { actions: got }.to_string();
            assert_eq!(
                update(&printed),
                expected,
                "{text:?} printed as {printed:?}"
            );
        }
    }

    #[test]
    fn projections() {
        let cases: Vec<(&str, Vec<Path>)> = vec![
            ("a", vec![path("a")]),
            ("a, b.c, d[0]", vec![path("a"), path("b.c"), path("d[0]")]),
            (" #a.#b ,c[1][2] ", vec![path("#a.#b"), path("c[1][2]")]),
            (
                "and, set, size",
                vec![path("and"), path("set"), path("size")],
            ),
        ];
        for (text, expected) in cases {
            let got = parse_projection(text).expect(text).paths;
            assert_eq!(got, expected, "{text:?}");
            let printed = Projection { paths: got }.to_string();
            assert_eq!(parse_projection(&printed).expect(&printed).paths, expected);
        }
    }

    #[test]
    fn printing_is_fully_parenthesised() {
        let c = cond("a = :x OR b = :y AND NOT c = :z");
        assert_eq!(c.to_string(), "(a = :x) OR ((b = :y) AND (NOT (c = :z)))");
        let u = parse_update("set a = b + :c, d = list_append(d, :e) remove f add g :h")
            .expect("update");
        assert_eq!(
            u.to_string(),
            "SET a = b + :c, d = list_append(d, :e) REMOVE f ADD g :h"
        );
    }

    fn syntax(kind: &str, token: &str, near: &str) -> String {
        format!("Invalid {kind}: Syntax error; token: \"{token}\", near: \"{near}\"")
    }

    /// Messages that DynamoDB itself returned, as quoted in bug reports and
    /// in other emulators' conformance tests.
    #[test]
    fn syntax_errors_seen_from_dynamodb() {
        use ExprKind::*;
        let c = "ConditionExpression";
        let f = "FilterExpression";
        let k = "KeyConditionExpression";
        let cases = [
            (condition_error("foo", Condition), syntax(c, "<EOF>", "foo")),
            (condition_error("a-b", Condition), syntax(c, "-", "a-b")),
            (condition_error("a-b", Filter), syntax(f, "-", "a-b")),
            (condition_error("a-b", KeyCondition), syntax(k, "-", "a-b")),
            (
                condition_error(
                    "attribute_exists(car_id) AND NOT #has_air_conditioner",
                    Condition,
                ),
                syntax(c, "<EOF>", "#has_air_conditioner"),
            ),
            (
                condition_error("contains (themes, :theme", Filter),
                syntax(f, "<EOF>", ":theme"),
            ),
            (
                condition_error("attribute_not_exists(", Condition),
                syntax(c, "<EOF>", "("),
            ),
            (
                condition_error("NOT (#attr0)", Filter),
                syntax(f, "<EOF>", ")"),
            ),
            (
                condition_error("begins_with()", KeyCondition),
                syntax(k, ")", "()"),
            ),
            (
                condition_error("tenantAgent:abc123-x = :v", Filter),
                syntax(f, ":abc123", "tenantAgent:abc123-"),
            ),
            (
                condition_error(&format!("{}a = :v", "(".repeat(40)), Filter),
                syntax(f, "<EOF>", ":v"),
            ),
            (
                update_error("ADD hits : incr"),
                syntax("UpdateExpression", ":", "hits : incr"),
            ),
            (
                update_error("INVALID SYNTAX HERE"),
                syntax("UpdateExpression", "INVALID", "INVALID SYNTAX"),
            ),
            (
                update_error("SET a = :a, #, b = :b"),
                syntax("UpdateExpression", "#", ", #,"),
            ),
            (
                update_error("SET a = :a, b = :b,"),
                syntax("UpdateExpression", "<EOF>", ","),
            ),
            (
                update_error("SET"),
                syntax("UpdateExpression", "<EOF>", "SET"),
            ),
            (
                projection_error("!!!"),
                syntax("ProjectionExpression", "!", "!!"),
            ),
            (
                projection_error("!!! INVALID !!!"),
                syntax("ProjectionExpression", "!", "!!"),
            ),
            (
                projection_error("a b"),
                syntax("ProjectionExpression", "b", "a b"),
            ),
            (
                projection_error("a,"),
                syntax("ProjectionExpression", "<EOF>", ","),
            ),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }

    /// Expressions that dynalite's tests (run against DynamoDB) assert are
    /// syntax errors; the token and context follow the rule above.
    #[test]
    fn syntax_errors_from_dynalite_cases() {
        let f = |text: &str, token: &str, near: &str| {
            assert_eq!(
                condition_error(text, ExprKind::Filter),
                syntax("FilterExpression", token, near),
                "{text:?}"
            );
        };
        f("things are not gonna be ok", "are", "things are not");
        f("a > 4", "4", "> 4");
        f(
            "attribute_exists(Pictures-RearView)",
            "-",
            "Pictures-RearView",
        );
        f(
            "attribute_exists(\"Pictures.RearView\")",
            "\"",
            "(\"Pictures",
        );
        f("attribute_exists(Pictures..RearView)", ".", "..RearView");
        f(
            "attribute_exists(Pi#ctures.RearView)",
            "#ctures",
            "Pi#ctures.",
        );
        f("attribute_exists(asdf[a])", "a", "[a]");
        f("a.:a < b.:b", ":a", ".:a <");
        f("a in b, c", "b", "in b,");
        f("a > between", "between", "> between");
        f("a in b", "b", "in b");
        f("a in (b,c,)", ")", ",)");
        f("(a)between(b.(c.d))and(c)", "(", ".(c");
        f("(a)between(b.c.d)and((c)", "<EOF>", ")");
        f("#$.b > a", "#", "#$");
        f("a > :things.stuff", ".", ":things.stuff");
        f("b[:a] > a", ":a", "[:a]");
        f("b[#_] > a", "#_", "[#_]");
        f("ü > a", "ü", "ü >");
        f("(a)between(b.c[4.5].#d)and(:a)", ".", "4.5");
        f("size(a).b > a", ".", ").b");
        f("(size(a)).b > a", ".", ").b");
        f("size(a)[0] > a", "[", ")[0");
        f("(size(a))[0] > a", "[", ")[0");
        f("attribute_not_exists(_c)", "_", "(_c");
        f("attribute_not_exists(c._d)", "_", "._d");
        f("a = :v AND", "<EOF>", "AND");
        f("a BETWEEN :a OR :b", "OR", ":a OR :b");
        f("(a = :v) = :w", "=", ") = :w");
        f("(a OR b = :v)", "OR", "a OR b");
        f("(NOT a)", ")", "a)");
        f("a = :v AND b", "<EOF>", "b");
        f("a = (b = :c)", "=", "b = :c");
        f("a[4294967296] = :v", "4294967296", "[4294967296]");
        f("a = :v)", ")", ":v)");
        f("a IN ()", ")", "()");

        let u = |text: &str, token: &str, near: &str| {
            assert_eq!(
                update_error(text),
                syntax("UpdateExpression", token, near),
                "{text:?}"
            );
        };
        u("whatever", "whatever", "whatever");
        u("set a", "<EOF>", "a");
        u("add a", "<EOF>", "a");
        u("delete a", "<EOF>", "a");
        u("set a=set", "set", "=set");
        u("remove a = b", "=", "a = b");
        u("add a = b", "=", "a = b");
        u("delete a = b", "=", "a = b");
        u("delete a b", "b", "a b");
        u(
            "delete a if_not_exist(b)",
            "if_not_exist",
            "a if_not_exist(",
        );
        u("add abort b", "b", "abort b");
        u("remove a b", "b", "a b");
        u("set a b", "b", "a b");
        u("set :a = b", ":a", "set :a =");
        u("remove :a", ":a", "remove :a");
        u("set a = b / c", "/", "b / c");
        u("set a = b * c", "*", "b * c");
        u("set a[1] = \"eight\"", "\"", "= \"eight");
        u("set a[1] = 1", "1", "= 1");
        u("SET a = if_not_exist(a, 100)", "100", ", 100)");
        u("SET if_not_exist(a, b) = a", "(", "if_not_exist(a");
        u("set (a = (b + c))", "(", "set (a");
        u("set a = (b.c).d + e", ".", ").d");
        u("set a = (b.c)[0] + e", "[", ")[0");
        u("set a = b + c + d", "+", "c + d");
        u("set a = b + (c + d)", "+", "c + d");
        u("set a = (b + c) - d", "-", ") - d");
        u("set a = list_append(b + c, d)", "+", "b + c");
        u("SET a = :v,", "<EOF>", ",");
    }

    #[test]
    fn empty_and_oversized_expressions() {
        use ExprKind::*;
        for text in ["", " ", " \t\r\n "] {
            for (kind, label) in [
                (Condition, "ConditionExpression"),
                (Filter, "FilterExpression"),
                (KeyCondition, "KeyConditionExpression"),
            ] {
                assert_eq!(
                    condition_error(text, kind),
                    format!("Invalid {label}: The expression can not be empty;")
                );
            }
            assert_eq!(
                update_error(text),
                "Invalid UpdateExpression: The expression can not be empty;"
            );
            assert_eq!(
                projection_error(text),
                "Invalid ProjectionExpression: The expression can not be empty;"
            );
        }
        let long = format!(
            "attribute_not_exists(a{})",
            "z".repeat(EXPRESSION_BYTES_MAX)
        );
        let size = long.len();
        assert_eq!(
            condition_error(&long, Condition),
            format!(
                "Invalid ConditionExpression: Expression size has exceeded the maximum allowed \
                 size; expression size: {size}"
            )
        );
        assert_eq!(
            condition_error(&long, Filter),
            format!(
                "Invalid FilterExpression: Expression size has exceeded the maximum allowed \
                 size; expression size: {size}"
            )
        );
        assert_eq!(
            condition_error(&long, KeyCondition),
            "Invalid KeyConditionExpression: Expression size has exceeded the maximum allowed size;"
        );
        assert_eq!(
            update_error(&format!("SET {long} = :v")),
            "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;"
        );
        assert_eq!(
            projection_error(&"a".repeat(EXPRESSION_BYTES_MAX + 1)),
            "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size;"
        );
    }

    const REDUNDANT: &str =
        "Invalid ConditionExpression: The expression has redundant parentheses;";

    /// dynalite's scan tests, run against DynamoDB, with the same messages.
    #[test]
    fn semantic_errors_from_dynalite_cases() {
        let f = |text: &str, expected: &str| {
            assert_eq!(
                condition_error(text, ExprKind::Filter),
                format!("Invalid FilterExpression: {expected}"),
                "{text:?}"
            );
        };
        for text in [
            "a=a and a > ((views))",
            "(a)between(((b.c)).d)and(c)",
            "a > whatever((:things), ((a)))",
            "a=a AND ((a=a AND a=a)) AND a=a",
            "a=a OR ((a=a OR a=a)) OR a=a",
            "a=a AND ((a=a AND (a=a AND a=a)))",
            "a=a OR ((a=a OR (a=a OR a=a)))",
            "(#k=:k AND #i=:i) AND ((attribute_not_exists(#t) OR #t<=:t))",
            "NOT ((a = :v))",
        ] {
            f(text, "The expression has redundant parentheses;");
        }
        f(
            "a=a and whatever((:things)) > a",
            "Invalid function name; function: whatever",
        );
        f(
            "attRIbute_exIsts((views), #a)",
            "Invalid function name; function: attRIbute_exIsts",
        );
        let misused =
            "The function is not allowed to be used this way in an expression; function: ";
        for (text, function) in [
            (
                "a=a and attribute_exists((views), (#a)) > b",
                "attribute_exists",
            ),
            ("attribute_not_exists(things) > b", "attribute_not_exists"),
            ("attribute_type(things, :a) > b", "attribute_type"),
            ("begins_with(things, a) > b", "begins_with"),
            ("contains(:things, c) > b", "contains"),
            ("size(contains(a, b)) > a", "contains"),
            ("size(things)", "size"),
            (
                "a between b and attribute_exists(things)",
                "attribute_exists",
            ),
            ("a in (b, attribute_exists(things))", "attribute_exists"),
            ("NOT size(a)", "size"),
            ("a = :v AND size(a)", "size"),
        ] {
            f(text, &format!("{misused}{function}"));
        }
        let count = "Incorrect number of operands for operator or function; operator or function: ";
        for (text, function, n) in [
            ("attribute_exists(things, a) and a=a", "attribute_exists", 2),
            ("attribute_not_exists(things, b)", "attribute_not_exists", 2),
            ("attribute_type(things)", "attribute_type", 1),
            ("begins_with(things)", "begins_with", 1),
            ("begins_with(things, size(a), b)", "begins_with", 3),
            ("contains(things)", "contains", 1),
            ("size(things, a) > b", "size", 2),
        ] {
            f(text, &format!("{count}{function}, number of operands: {n}"));
        }
        let operand_type =
            "Incorrect operand type for operator or function; operator or function: ";
        f(
            "attribute_type(a, size(a)) and a=a and a=:a",
            &format!("{operand_type}attribute_type, operand type: N"),
        );
        f(
            "begins_with(a, size(a)) and a=:a",
            &format!("{operand_type}begins_with, operand type: N"),
        );
        f(
            "size(size(a)) > :a",
            &format!("{operand_type}size, operand type: N"),
        );
        f(
            "attribute_type(a, b)",
            &format!(
                "{operand_type}attribute_type, operand type: {{NS,SS,L,BS,N,M,B,BOOL,NULL,S}}"
            ),
        );
        let requires = "Operator or function requires a document path; operator or function: ";
        f(
            "attribute_exists(:a) and a=a",
            &format!("{requires}attribute_exists"),
        );
        f(
            "attribute_not_exists(size(:a))",
            &format!("{requires}attribute_not_exists"),
        );
    }

    /// The functions of one language are known, but refused, in the other
    /// (ScyllaDB's DynamoDB-verified tests; DynamoDB Local's messages).
    #[test]
    fn functions_of_the_other_language_are_not_allowed() {
        for (text, function) in [
            ("if_not_exists(a, :v) = :v", "if_not_exists"),
            ("list_append(a, :v) = :v", "list_append"),
            ("a = :v AND if_not_exists(a, a) = :v", "if_not_exists"),
            ("contains(list_append(a, :v), :w)", "list_append"),
        ] {
            for kind in [
                ExprKind::Condition,
                ExprKind::Filter,
                ExprKind::KeyCondition,
            ] {
                assert_eq!(
                    condition_error(text, kind),
                    format!(
                        "Invalid {}: The function is not allowed in a condition expression; \
                         function: {function}",
                        kind.label()
                    ),
                    "{text:?}"
                );
            }
        }
        // An unknown name is still just unknown, and the name check comes
        // before a misused function.
        assert_eq!(
            condition_error("dog(a) = :v", ExprKind::Condition),
            "Invalid ConditionExpression: Invalid function name; function: dog"
        );
        assert_eq!(
            condition_error(
                "attribute_exists(a) = if_not_exists(a, :v)",
                ExprKind::Condition
            ),
            "Invalid ConditionExpression: The function is not allowed in a condition expression; \
             function: if_not_exists"
        );
        for (text, function) in [
            ("SET a = size(b)", "size"),
            ("SET a = attribute_exists(b)", "attribute_exists"),
            ("SET a = attribute_not_exists(b)", "attribute_not_exists"),
            ("SET a = attribute_type(b, :t)", "attribute_type"),
            ("SET a = begins_with(b, :v)", "begins_with"),
            ("SET a = contains(b, :v)", "contains"),
            ("SET a = list_append(b, size(c))", "size"),
            ("SET a = size(b) + :one", "size"),
        ] {
            assert_eq!(
                update_error(text),
                format!(
                    "Invalid UpdateExpression: The function is not allowed in an update \
                     expression; function: {function}"
                ),
                "{text:?}"
            );
        }
        assert_eq!(
            update_error("SET a = f(b)"),
            "Invalid UpdateExpression: Invalid function name; function: f"
        );
    }

    /// `size` of a constant parses (its type is the resolver's to check);
    /// only `size` of `size` is refused here.
    #[test]
    fn size_takes_a_path_or_a_value() {
        assert!(parse_condition("size(:v) > :w", ExprKind::Condition).is_ok());
        assert!(parse_condition("size(:v) BETWEEN size(a) AND :w", ExprKind::Filter).is_ok());
        assert_eq!(
            condition_error("size(size(:v)) > :w", ExprKind::Condition),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; \
             operator or function: size, operand type: N"
        );
        assert_eq!(
            condition_error("size(:v)", ExprKind::Condition),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an \
             expression; function: size"
        );
    }

    /// DynamoDB takes `list_append` only as a whole SET value; as an
    /// argument of a function or an operand of `+`/`-` it is misused, while
    /// `if_not_exists` may stand anywhere an operand may (ScyllaDB's
    /// DynamoDB-verified `test_update_expression_function_nesting`).
    #[test]
    fn nested_list_append_is_refused() {
        let misused = "Invalid UpdateExpression: The function is not allowed to be used this way \
                       in an expression; function: list_append";
        for text in [
            "SET a = list_append(list_append(:v1, :v2), :v3)",
            "SET a = list_append(list_append(list_append(:v1, :v2), :v3), :v4)",
            "SET a = list_append(:v1, list_append(:v2, :v3))",
            "SET a = if_not_exists(a, list_append(b, :c))",
            "SET a = list_append(a, :v) + :w",
            "SET a = :w - (list_append(a, :v))",
        ] {
            assert_eq!(update_error(text), misused, "{text:?}");
        }
        for text in [
            "SET a = list_append(if_not_exists(a, :empty), :v)",
            "SET a = list_append(:v, if_not_exists(a, :empty))",
            "SET a = if_not_exists(a, :zero) + :one",
            "SET a = if_not_exists(a, if_not_exists(b, :c))",
        ] {
            assert!(parse_update(text).is_ok(), "{text:?}");
        }
        // A nested if_not_exists as the first argument is still a missing
        // document path, and an unknown function still wins.
        assert_eq!(
            update_error("SET b = if_not_exists(if_not_exists(a, :v2), :v1)"),
            "Invalid UpdateExpression: Operator or function requires a document path; \
             operator or function: if_not_exists"
        );
        assert_eq!(
            update_error("SET a = list_append(list_append(:v, :w), f(b))"),
            "Invalid UpdateExpression: Invalid function name; function: f"
        );
    }

    #[test]
    fn semantic_errors_of_updates() {
        let u = |text: &str, expected: &str| {
            assert_eq!(
                update_error(text),
                format!("Invalid UpdateExpression: {expected}"),
                "{text:?}"
            );
        };
        for (text, section) in [
            ("set a = #c set c = :d", "SET"),
            ("remove #d set a = b remove e", "REMOVE"),
            ("add #d :e set a = b add e :f", "ADD"),
            ("delete #d :e set a = b delete #e :f", "DELETE"),
        ] {
            u(
                text,
                &format!(
                    "The \"{section}\" section can only be used once in an update expression;"
                ),
            );
        }
        u(
            "set #c = if_not_exist(:c) set c = d",
            "Invalid function name; function: if_not_exist",
        );
        let count = "Incorrect number of operands for operator or function; operator or function: ";
        u(
            "set a = if_not_exists(c)",
            &format!("{count}if_not_exists, number of operands: 1"),
        );
        u(
            "set a = list_append(c)",
            &format!("{count}list_append, number of operands: 1"),
        );
        u(
            "set a = list_append(a, b, c)",
            &format!("{count}list_append, number of operands: 3"),
        );
        let requires = "Operator or function requires a document path; operator or function: ";
        u(
            "set a = if_not_exists(:a, c)",
            &format!("{requires}if_not_exists"),
        );
        u(
            "set a = if_not_exists(if_not_exists(a, b), c)",
            &format!("{requires}if_not_exists"),
        );
    }

    #[test]
    fn limits_over_their_maximum() {
        let list = (0..=IN_OPERANDS_MAX)
            .map(|i| format!(":v{i}"))
            .collect::<Vec<_>>();
        assert_eq!(
            condition_error(&format!("a IN ({})", list.join(",")), ExprKind::Filter),
            "Invalid FilterExpression: The IN operator is provided with too many operands; \
             number of operands: 101"
        );

        let deep = vec!["a"; PATH_DEPTH_MAX + 1].join(".");
        let expected = "The document path has too many nesting levels; nesting levels: 33";
        assert_eq!(
            condition_error(&format!("{deep} = :v"), ExprKind::Condition),
            format!("Invalid ConditionExpression: {expected}")
        );
        assert_eq!(
            update_error(&format!("REMOVE {deep}")),
            format!("Invalid UpdateExpression: {expected}")
        );
        assert_eq!(
            projection_error(&format!("b, {deep}")),
            format!("Invalid ProjectionExpression: {expected}")
        );

        let mut text = "a = :v".to_string();
        for _ in 0..(OPERATORS_MAX / 2) {
            text.push_str(" AND a = :v");
        }
        assert_eq!(
            condition_error(&text, ExprKind::Filter),
            "Invalid FilterExpression: The expression contains too many operators; operator count: 301"
        );
        let action = "x=if_not_exists(a,:v)+:v";
        let text = format!("SET {}", vec![action; OPERATORS_MAX / 2].join(","));
        assert!(parse_update(&text).is_ok());
        let text = format!("{text}, y = list_append(:v, :v)");
        assert_eq!(
            update_error(&text),
            "Invalid UpdateExpression: The expression contains too many operators; operator count: 301"
        );
    }

    /// Syntax errors come before every semantic error, wherever they are.
    #[test]
    fn syntax_errors_win_over_semantic_errors() {
        assert_eq!(
            condition_error("((a = :v)) AND foo(b) AND c", ExprKind::Condition),
            syntax("ConditionExpression", "<EOF>", "c")
        );
        assert_eq!(
            update_error("SET a = :v SET b = size(c) REMOVE"),
            syntax("UpdateExpression", "<EOF>", "REMOVE")
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_a_syntax_error() {
        let ok = format!(
            "{}a{} = :v",
            "size(".repeat(NESTING_DEPTH_MAX - 1),
            ")".repeat(NESTING_DEPTH_MAX - 1)
        );
        // Nested size() is reported, but only after the whole text parsed.
        assert!(condition_error(&ok, ExprKind::Condition).contains("operand type: N"));
        let text = format!(
            "{}a = :v{}",
            "NOT (".repeat(NESTING_DEPTH_MAX + 5),
            ")".repeat(NESTING_DEPTH_MAX + 5)
        );
        assert_eq!(
            condition_error(&text, ExprKind::Condition),
            syntax("ConditionExpression", "(", "NOT (NOT")
        );
        let text = format!(
            "SET a = {}:v{}",
            "(".repeat(NESTING_DEPTH_MAX + 5),
            ")".repeat(NESTING_DEPTH_MAX + 5)
        );
        assert_eq!(update_error(&text), syntax("UpdateExpression", "(", "((("));
    }

    /// Found by fuzzing `parse_projection`: printed text is spaced, so a
    /// compact expression near the size limit prints longer than the limit,
    /// and the printed form is then rejected for its size (round trips hold
    /// only while the printed text fits).
    #[test]
    fn printed_text_over_the_size_limit_is_rejected_for_its_size() {
        let compact = vec!["a"; EXPRESSION_BYTES_MAX / 2].join(",");
        let printed = parse_projection(&compact).expect("compact").to_string();
        assert!(printed.len() > EXPRESSION_BYTES_MAX);
        assert_eq!(
            projection_error(&printed),
            "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size;"
        );
    }

    /// The parser and the semantic walk recurse only as deep as the nesting
    /// limit, so the worst inputs of the maximum size fit a test thread's
    /// 2 MiB stack.
    #[test]
    fn deepest_inputs_do_not_overflow_the_stack() {
        let n = EXPRESSION_BYTES_MAX;
        let texts = [
            "(".repeat(n),
            "NOT ".repeat(n / 4),
            format!("{}a = :v", "NOT ".repeat((n - 6) / 4)),
            "a(".repeat(n / 2),
            format!("{}a{}", "size(".repeat(n / 12), ")".repeat(n / 12)),
            "a = :v AND ".repeat(n / 11),
            "[".repeat(n),
            "a.".repeat(n / 2),
        ];
        for text in &texts {
            assert!(parse_condition(text, ExprKind::Condition).is_err());
            assert!(parse_update(text).is_err());
            assert!(parse_projection(text).is_err());
            let set = format!("SET a = {text}");
            assert!(parse_update(&set[..set.len().min(n)]).is_err());
        }
        let not_chain = format!("{}a = :v", "NOT ".repeat((n - 6) / 4));
        assert!(condition_error(&not_chain, ExprKind::Condition).contains("too many operators"));
    }
}
