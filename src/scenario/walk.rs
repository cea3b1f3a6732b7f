//! The one walk over a scenario step: every request it sends, every expectation, every capture,
//! a workload's steps included, next to the model so that a part added to a step is walked here
//! once and reaches every pass (planning's rewrites, the static checks, the dry-run preview,
//! applicability, execution). A pass implements [`Visit`] (to read) or [`VisitMut`] (to
//! rewrite) for the parts it cares about.

use std::collections::BTreeMap;

use super::model::*;
use super::template::Template;

/// Where a request sits in its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// The step's one request.
    Alone,
    /// A group's one request, sent `count` times at once.
    Repeated(u32),
    /// Member `i` of a group's list, sent at once.
    Listed(usize),
}

/// A pass that reads a step. Every method does nothing unless the pass says otherwise.
pub trait Visit<'a> {
    /// A request the step sends.
    fn request(&mut self, _step: &'a Step, _member: Member, _request: &'a Request) {}
    /// What one response must be: a request's, or a group's `others` and `each`.
    fn expect(&mut self, _step: &'a Step, _expect: &'a Expect) {}
    /// What a group's set of outcomes must be, before its `others` and `each`.
    fn group_expect(&mut self, _step: &'a Step, _expect: &'a GroupExpect) {}
    /// The step's captures.
    fn captures(&mut self, _step: &'a Step, _captures: &'a BTreeMap<String, Capture>) {}
    /// A workload, before its steps are walked (each as a step of its own).
    fn workload(&mut self, _step: &'a Step, _workload: &'a Workload) {}
}

/// A pass that rewrites a step in place; the walk stops at its first error.
pub trait VisitMut {
    fn request(&mut self, _request: &mut Request) -> Result<(), String> {
        Ok(())
    }
    fn expect(&mut self, _expect: &mut Expect) -> Result<(), String> {
        Ok(())
    }
    fn group_expect(&mut self, _expect: &mut GroupExpect) -> Result<(), String> {
        Ok(())
    }
    fn captures(&mut self, _captures: &mut BTreeMap<String, Capture>) -> Result<(), String> {
        Ok(())
    }
}

impl Step {
    /// Walks every part of the step, in the order the step holds them: the requests, the
    /// expectations, the captures; a workload's steps in turn.
    pub fn walk<'a>(&'a self, pass: &mut dyn Visit<'a>) {
        match &self.action {
            Action::Send { request, expect } => {
                pass.request(self, Member::Alone, request);
                pass.expect(self, expect);
            }
            Action::Race { group, expect } => {
                match &group.requests {
                    GroupRequests::Repeat { count, request } => {
                        pass.request(self, Member::Repeated(*count), request)
                    }
                    GroupRequests::List(list) => {
                        for (i, request) in list.iter().enumerate() {
                            pass.request(self, Member::Listed(i), request);
                        }
                    }
                }
                pass.group_expect(self, expect);
                for each in expect.others.iter().chain(&expect.each) {
                    pass.expect(self, each);
                }
            }
            Action::Workload(workload) => {
                pass.workload(self, workload);
                for inner in &workload.steps {
                    inner.walk(pass);
                }
            }
        }
        pass.captures(self, &self.capture);
    }

    /// The same walk, rewriting.
    pub fn walk_mut(&mut self, pass: &mut dyn VisitMut) -> Result<(), String> {
        match &mut self.action {
            Action::Send { request, expect } => {
                pass.request(request)?;
                pass.expect(expect)?;
            }
            Action::Race { group, expect } => {
                match &mut group.requests {
                    GroupRequests::Repeat { request, .. } => pass.request(request)?,
                    GroupRequests::List(list) => {
                        list.iter_mut().try_for_each(|r| pass.request(r))?
                    }
                }
                pass.group_expect(expect)?;
                for each in expect.others.iter_mut().chain(expect.each.iter_mut()) {
                    pass.expect(each)?;
                }
            }
            Action::Workload(workload) => {
                for inner in workload.steps.iter_mut() {
                    inner.walk_mut(pass)?;
                }
            }
        }
        pass.captures(&mut self.capture)
    }

    /// Every request the step sends, in order: its own, a group's (a `count` group's one
    /// request once), a workload's steps'.
    pub fn requests(&self) -> Vec<&Request> {
        struct Requests<'a>(Vec<&'a Request>);
        impl<'a> Visit<'a> for Requests<'a> {
            fn request(&mut self, _: &'a Step, _: Member, request: &'a Request) {
                self.0.push(request);
            }
        }
        let mut all = Requests(Vec::new());
        self.walk(&mut all);
        all.0
    }

    /// The walk, to change each request; stops at the first error.
    pub fn each_request_mut(
        &mut self,
        f: &dyn Fn(&mut Request) -> Result<(), String>,
    ) -> Result<(), String> {
        struct EachRequest<'f>(&'f dyn Fn(&mut Request) -> Result<(), String>);
        impl VisitMut for EachRequest<'_> {
            fn request(&mut self, request: &mut Request) -> Result<(), String> {
                (self.0)(request)
            }
        }
        self.walk_mut(&mut EachRequest(f))
    }

    /// All templates of a step: its requests' and its expectations' (a workload's steps'
    /// included), for the static check that each names something defined. An error names the
    /// (innermost) step.
    pub fn templates(&self) -> Result<Vec<Template>, String> {
        #[derive(Default)]
        struct Templates {
            out: Vec<Template>,
            error: Option<String>,
        }
        impl Templates {
            fn note(&mut self, step: &Step, found: Result<(), String>) {
                if let (Err(e), None) = (found, &self.error) {
                    self.error = Some(format!("step `{}`: {e}", step.name));
                }
            }
        }
        impl<'a> Visit<'a> for Templates {
            fn request(&mut self, step: &'a Step, _: Member, request: &'a Request) {
                let found = request.templates(&mut self.out);
                self.note(step, found);
            }
            fn expect(&mut self, step: &'a Step, expect: &'a Expect) {
                let found = expect.templates(&mut self.out);
                self.note(step, found);
            }
        }
        let mut pass = Templates::default();
        self.walk(&mut pass);
        match pass.error {
            Some(error) => Err(error),
            None => Ok(pass.out),
        }
    }
}
